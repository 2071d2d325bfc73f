"""Benchmark: the Trainer's input pipeline alone, transformed records -> ready batches.

Reads the full-size training split Transform wrote in benchmarks.data_path
(150 px, ~9,300 records) through `trainer_module.data.make_dataset`, the
Trainer's own code, with nothing consuming the batches:

- all cores, as the Trainer runs it; one core (tf.data's private thread pool
  and intra-op parallelism at 1): the per-core rate the GPU analysis in
  docs/PERFORMANCE.md divides by;
- the decoded uint8 batches cached in memory (`.cache()`, ~630 MB), second pass;
- the start-up cost of counting the records (make_dataset's extra pass).

    python -m benchmarks.input_pipeline [--data-path-workdir outputs/bench/data_path]
"""

from __future__ import annotations

import argparse
import glob
import os

import tensorflow as tf
import tensorflow_transform as tft

from benchmarks.data_path import guide_config
from benchmarks.figures import Figure, record, stopwatch
from trainer_module import data

NAME = "input_pipeline"
BATCH = 32


def one_pass(dataset: tf.data.Dataset) -> tuple[int, float]:
    """(images, seconds) of iterating `dataset` once, nothing done with the batches."""
    with stopwatch() as timing:
        images = sum(int(images.shape[0]) for images, _ in dataset)
    return images, timing["seconds"]


def single_core(dataset: tf.data.Dataset) -> tf.data.Dataset:
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.threading.max_intra_op_parallelism = 1
    return dataset.with_options(options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-path-workdir", default=os.path.join("outputs", "bench", "data_path")
    )
    parser.add_argument("--mode", default="in_memory", help="which data_path run to read")
    args = parser.parse_args()
    config = guide_config("", os.path.join(args.data_path_workdir, args.mode), args.mode)
    transform = os.path.join(config.pipeline_root, "Transform")
    (graph,) = glob.glob(os.path.join(transform, "transform_graph", "*"))
    train = [os.path.join(transform, "transformed_examples", "*", "Split-train", "*")]
    output = tft.TFTransformOutput(graph)
    image_size = config.data.image_size

    with stopwatch() as start_up:
        dataset = data.make_dataset(train, output, image_size, BATCH, shuffle_seed=1337)
    one_pass(dataset.take(5))  # warm-up: graph building, file open
    images, all_cores = one_pass(dataset)
    _, one_core = one_pass(single_core(dataset))
    cached = dataset.cache()
    one_pass(cached)
    _, cached_seconds = one_pass(cached)
    _, cached_one_core = one_pass(single_core(cached))
    cores = os.cpu_count()
    record(
        [
            Figure(
                NAME,
                f"transformed records -> batches of {BATCH}, {cores} cores",
                images / all_cores,
                "images/s",
                note=f"{images / all_cores / BATCH:.1f} batches/s, {images} images, {image_size}px",
            ),
            Figure(
                NAME,
                "transformed records -> batches, one core",
                images / one_core,
                "images/s",
                baseline=images / all_cores / cores,
                baseline_name=f"{cores}-core rate / {cores}",
                note=f"{images / one_core / BATCH:.1f} batches/s per core",
            ),
            Figure(
                NAME,
                "cached uint8 batches in memory, one core",
                images / cached_one_core,
                "images/s",
                baseline=images / cached_seconds,
                baseline_name=f"cached, {cores} cores",
                note=f"{images * image_size**2 * 3 / 2**20:.0f} MB held",
            ),
            Figure(
                NAME,
                "make_dataset start-up (counts the records: one extra read)",
                start_up["seconds"],
                "s",
                baseline=all_cores,
                baseline_name="one full pass",
            ),
        ]
    )


if __name__ == "__main__":
    main()
