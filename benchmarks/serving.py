"""Benchmark: the pushed model's `serving_image_bytes` on CPU, and its size on disk.

Latency per image at batch 1 and 32: the signature (JPEG bytes in: Transform's
decode and resize, then the model) against the same Keras model called on the
already-preprocessed uint8 tensor. Ratio = Keras latency / signature latency
(goal >= 0.8x: preprocessing inside the signature costs at most a quarter
more). Images are photo-sized JPEGs (pipeline.sample_data, `photo_sizes`).
Model size: the SavedModel directory against the bytes of its weights
(goal <= 1.1x). The serving check's time in the sample run against the Evaluator's in
the same run (goal <= 2x: seconds, not minutes), and the latency of refusing a
decompression bomb (a 20000x20000 PNG) against scoring one photo.

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

import numpy as np
import tensorflow as tf
import tf_keras as keras

from benchmarks.figures import Figure, Goal, record
from pipeline.sample_data import draw_image
from trainer_module import pixels

NAME = "serving"
LATENCY_GOAL = Goal(0.8)
SIZE_GOAL = Goal(1.1, at_least=False)
CHECK_GOAL = Goal(2.0, at_least=False)
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
    figures += serving_check_figures(args.output_dir, signature, jpegs[0], args.repeat)
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


def serving_check_figures(output_dir: str, signature, photo: bytes, repeat: int) -> list[Figure]:
    from components.serving_check.requests import png_declaring

    with open(os.path.join(output_dir, "latest_run.json")) as f:
        seconds = {c["component"]: c["seconds"] for c in json.load(f)["components"]}
    figures = []
    if seconds.get("ServingCheck") and seconds.get("Evaluator"):
        figures.append(
            Figure(
                NAME,
                "ServingCheck component, wall time",
                seconds["ServingCheck"],
                "s",
                baseline=seconds["Evaluator"],
                baseline_name="the Evaluator in the same run",
                goal=CHECK_GOAL,
                note="sample run; the check's requests are a fixed few, the Evaluator's grow "
                "with the test split",
            )
        )
    bomb = tf.constant([png_declaring(20_000, 20_000)])
    refused = median_seconds(lambda: signature(images=bomb), repeat)
    scored = median_seconds(lambda: signature(images=tf.constant([photo])), repeat)
    figures.append(
        Figure(
            NAME,
            f"{SIGNATURE}: a 20000x20000 PNG refused, latency",
            refused * 1000,
            "ms",
            baseline=scored * 1000,
            baseline_name="one photo scored",
            note="refused from its header, never decoded",
        )
    )
    return figures


if __name__ == "__main__":
    main()
