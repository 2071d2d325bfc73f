"""Benchmark: the pushed model's `serving_image_bytes` on CPU, and its size on disk.

Latency per image at batch 1 and 32: the signature (JPEG bytes in: Transform's
decode and resize, then the model) against the same Keras model called on the
already-preprocessed uint8 tensor. Ratio = Keras latency / signature latency
(goal >= 0.8x: preprocessing inside the signature costs at most a quarter
more). Images are photo-sized JPEGs (pipeline.sample_data, `photo_sizes`).
Model size: the SavedModel directory against the bytes of its weights
(goal <= 1.1x).

    python -m benchmarks.serving --output-dir outputs/bench/sample/out
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import statistics
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

from benchmarks.figures import Figure, Goal, record  # noqa: E402
from pipeline.sample_data import draw_image  # noqa: E402
from trainer_module import pixels  # noqa: E402

NAME = "serving"
LATENCY_GOAL = Goal(0.8)
SIZE_GOAL = Goal(1.1, at_least=False)
SIGNATURE = "serving_image_bytes"


def median_seconds(call, repeat: int) -> float:
    call()  # the first call traces
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def directory_bytes(path: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(path)
        for name in names
    )


def served_model(output_dir: str) -> str:
    """The run's pushed model; the Trainer's export if the run did not bless it."""
    with open(os.path.join(output_dir, "latest_run.json")) as f:
        pushed = json.load(f).get("pushed_model_dir")
    if pushed:
        return pushed
    pattern = os.path.join(output_dir, "pipeline_root", "Trainer", "model", "*", "Format-Serving")
    return sorted(glob.glob(pattern))[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=os.path.join("outputs", "bench", "sample", "out"))
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    model_dir = served_model(args.output_dir)
    signature = tf.saved_model.load(model_dir).signatures[SIGNATURE]
    model = keras.models.load_model(model_dir, compile=False)
    image_size = int(model.input_shape[1])

    rng = random.Random(0)
    jpegs = [draw_image(i % 2, rng, photo_sizes=True) for i in range(32)]
    keras_call = tf.function(lambda x: model(x, training=False))
    figures = []
    for batch in (1, 32):
        images = tf.constant(jpegs[:batch])
        preprocessed = tf.constant(
            np.stack([pixels.decode_and_resize(j, image_size).numpy() for j in jpegs[:batch]])
        )
        served = median_seconds(lambda b=images: signature(images=b), args.repeat) / batch
        plain = median_seconds(lambda b=preprocessed: keras_call(b), args.repeat) / batch
        # Latencies: lower is better, so the ratio is the baseline's over the signature's.
        figures.append(
            Figure(
                NAME,
                f"{SIGNATURE} throughput at batch {batch} (1 / latency per image)",
                1 / served,
                "images/s",
                baseline=1 / plain,
                baseline_name="Keras model on the preprocessed uint8 tensor",
                goal=LATENCY_GOAL,
                note=f"{served * 1000:.1f} ms vs {plain * 1000:.1f} ms per image, "
                f"{image_size} px, CPU",
            )
        )
    weight_bytes = sum(int(np.prod(w.shape)) * w.dtype.size for w in model.weights)
    figures.append(
        Figure(
            NAME,
            "SavedModel size on disk",
            directory_bytes(model_dir) / 2**20,
            "MB",
            baseline=weight_bytes / 2**20,
            baseline_name="bytes of the weights",
            goal=SIZE_GOAL,
        )
    )
    record(figures)


if __name__ == "__main__":
    main()
