"""Benchmark: training throughput inside the TFX Trainer vs a plain Keras script, same run.

1. Runs the real pipeline (LocalDagRunner, sample profile, generated data) once.
2. On the very same transformed examples Transform wrote, trains the guide's
   model with a plain Keras script: tf.data + keras.applications.Xception +
   compile/fit, nothing from `trainer_module` except the stopwatch callback.
3. Prints images/s per stage for both and their ratio (goal >= 0.95x).

Images/s = training examples / training seconds of an epoch (evaluation
excluded), from each stage's fastest epoch after its first (which traces). The
fastest, not the median: this machine's noise only ever slows an epoch down,
and a median of a stage's few epochs moved the ratio by 10 % between runs.

    flock /tmp/heavy.lock python -m benchmarks.trainer_throughput [--examples 600]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import tempfile

import tensorflow as tf
import tensorflow_transform as tft

from benchmarks.figures import Figure, Goal, record
from benchmarks.notebook import compile_stage, guide_model
from core.config import PipelineConfig
from pipeline.local_runner import run_locally
from pipeline.sample_data import generate_sample_dataset
from trainer_module.callbacks import TRAIN_SECONDS, TrainTimer

GOAL = Goal(0.95)


def plain_keras_stages(
    root: str, image_size: int, batch_size: int, head_epochs: int, fine_epochs: int
) -> dict[str, list[float]]:
    """The guide's code as a plain script on Transform's output: train seconds per epoch."""
    transform_dir = glob.glob(os.path.join(root, "Transform", "transform_graph", "*"))[0]
    spec = tft.TFTransformOutput(transform_dir).transformed_feature_spec()

    def dataset(split: str, shuffle: bool) -> tf.data.Dataset:
        pattern = os.path.join(root, "Transform", "transformed_examples", "*", split, "*")
        data = tf.data.TFRecordDataset(sorted(glob.glob(pattern)), compression_type="GZIP")
        if shuffle:
            data = data.shuffle(1024, seed=1)

        def parse(serialized):
            example = tf.io.parse_single_example(serialized, spec)
            image = tf.io.parse_tensor(example["pixels"], tf.uint8)
            image = tf.ensure_shape(image, [image_size, image_size, 3])
            return image, tf.cast(example["label"], tf.float32)

        return data.map(parse, tf.data.AUTOTUNE).batch(batch_size).prefetch(tf.data.AUTOTUNE)

    train, validation = dataset("Split-train", True), dataset("Split-eval", False)
    model, base = guide_model(image_size)

    seconds = {}
    for stage, learning_rate, epochs in (
        ("head", 1e-3, head_epochs),
        ("fine_tune", 1e-5, fine_epochs),
    ):
        base.trainable = stage == "fine_tune"
        compile_stage(model, learning_rate)
        history = model.fit(
            train, epochs=epochs, validation_data=validation, callbacks=[TrainTimer()], verbose=0
        )
        seconds[stage] = history.history[TRAIN_SECONDS]
    return seconds


def steady_images_per_second(examples: int, seconds: list[float]) -> float:
    steady = seconds[1:] or seconds
    return examples / min(steady)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=600, help="generated dataset size")
    parser.add_argument("--head-epochs", type=int, default=6)
    parser.add_argument("--fine-tune-epochs", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="default: a new temporary directory")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="trainer_throughput_")

    data_dir = os.path.join(workdir, "tfds")
    shutil.rmtree(os.path.join(workdir, "out"), ignore_errors=True)  # a previous run's
    generate_sample_dataset(data_dir, num_examples=args.examples, seed=0)
    config = PipelineConfig.for_profile(
        "sample",
        data_dir=data_dir,
        output_dir=os.path.join(workdir, "out"),
        head_epochs=args.head_epochs,
        fine_tune_epochs=args.fine_tune_epochs,
        enable_cache=False,
    )
    summary = run_locally(config)
    train_examples = summary.split_counts["train"]
    (history_file,) = glob.glob(
        os.path.join(config.pipeline_root, "Trainer", "model_run", "*", "history.json")
    )
    with open(history_file) as f:
        trainer = {stage: h[TRAIN_SECONDS] for stage, h in json.load(f).items()}

    plain = plain_keras_stages(
        config.pipeline_root,
        config.data.image_size,
        config.training.batch_size,
        args.head_epochs,
        args.fine_tune_epochs,
    )
    print(
        f"{train_examples} training images at {config.data.image_size}px, batch "
        f"{config.training.batch_size}, {os.cpu_count()} CPUs; images/s, fastest of the "
        "epochs after each stage's first"
    )
    record(
        [
            Figure(
                "trainer_throughput",
                f"Trainer {stage} images/s",
                steady_images_per_second(train_examples, trainer[stage]),
                "images/s",
                baseline=steady_images_per_second(train_examples, plain[stage]),
                baseline_name="plain Keras on the same records",
                goal=GOAL,
                note=f"{train_examples} images at {config.data.image_size} px, fastest later epoch",
            )
            for stage in ("head", "fine_tune")
        ]
    )


if __name__ == "__main__":
    main()
