"""Benchmark: the head stage on cached features vs on images, 20 epochs each, same run.

Both arms start from the same weights on the same images (the offline sample
drawings, decoded and resized as Transform does), without augmentation, as
`feature_cache` requires. The baseline runs the frozen Xception on every image
every epoch; the cache runs it once. Prints seconds, the speedup (goal >= 5x)
and the eval accuracy of each arm (tolerance: 0.05 absolute, i.e. the two
heads differ by dropout noise only).

    flock /tmp/heavy.lock python -m benchmarks.feature_cache [--examples 300]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import tensorflow as tf
import tf_keras as keras

from benchmarks.figures import Figure, Goal, record
from core.config import PipelineConfig
from pipeline.sample_data import draw_image
from trainer_module import model as model_lib
from trainer_module import pixels, training
from trainer_module.stage_runner import StageRunner

SPEEDUP_GOAL = 5.0
ACCURACY_TOLERANCE = 0.05


def sample_images(n: int, image_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = random.Random(seed)
    labels = np.array([i % 2 for i in range(n)], dtype=np.float32)
    images = np.stack(
        [pixels.decode_and_resize(draw_image(int(y), rng), image_size).numpy() for y in labels]
    )
    return images, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="train examples (eval: 1/4)")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()

    base = PipelineConfig.for_profile(
        "sample", image_size=args.image_size, head_epochs=args.epochs, augment=False
    ).training
    batch = base.batch_size
    train_images, train_labels = sample_images(args.examples, args.image_size, seed=0)
    eval_images, eval_labels = sample_images(args.examples // 4, args.image_size, seed=1)
    train = (
        tf.data.Dataset.from_tensor_slices((train_images, train_labels))
        .shuffle(len(train_labels), seed=base.seed)
        .batch(batch)
        .prefetch(tf.data.AUTOTUNE)
    )
    evaluation = tf.data.Dataset.from_tensor_slices((eval_images, eval_labels)).batch(batch)

    keras.utils.set_random_seed(base.seed)
    reference = model_lib.build_transfer_model(base, args.image_size)
    model_lib.recalibrate_batchnorm(reference.base, train_images[:64], reference.preprocess)
    initial = reference.model.get_weights()

    results = {}
    for arm, cached in (("images (baseline)", False), ("cached features", True)):
        config = PipelineConfig.for_profile(
            "sample",
            image_size=args.image_size,
            head_epochs=args.epochs,
            fine_tune_epochs=0,  # the head stage only
            augment=False,
            feature_cache=cached,
        ).training
        keras.utils.set_random_seed(config.seed)
        transfer = model_lib.build_transfer_model(config, args.image_size)
        transfer.model.set_weights(initial)
        started = time.perf_counter()
        training.train(transfer, train, evaluation, config, StageRunner(config))
        seconds = time.perf_counter() - started
        training.compile_for_stage(transfer.model, keras.optimizers.Adam(config.head_learning_rate))
        _, accuracy = transfer.model.evaluate(evaluation, verbose=0)
        results[arm] = (seconds, accuracy)
        print(f"{arm:18s} {args.epochs} head epochs: {seconds:7.1f} s, eval acc {accuracy:.4f}")

    (base_s, base_acc), (cache_s, cache_acc) = results.values()
    setting = (
        f"{args.examples} train / {args.examples // 4} eval images at {args.image_size}px, "
        f"batch {batch}, weights none"
    )
    record(
        [
            Figure(
                "feature_cache",
                f"head stage, {args.epochs} epochs on cached features (epochs/s)",
                args.epochs / cache_s,
                "epochs/s",
                baseline=args.epochs / base_s,
                baseline_name="the same epochs on images",
                goal=Goal(SPEEDUP_GOAL),
                note=f"{cache_s:.0f} s vs {base_s:.0f} s; {setting}",
            ),
            Figure(
                "feature_cache",
                "eval accuracy difference, cached vs images",
                abs(base_acc - cache_acc),
                "",
                goal=Goal(ACCURACY_TOLERANCE, at_least=False, on_ratio=False),
                note=f"{cache_acc:.3f} vs {base_acc:.3f}",
            ),
        ]
    )


if __name__ == "__main__":
    main()
