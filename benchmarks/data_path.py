"""Benchmark: the data components at the real dataset's size, against plain tf.data.

1. Generates (once) 23,262 JPEGs shaped like cats_vs_dogs (median 500x375,
   ~20-40 KB; `pipeline.sample_data` with `photo_sizes`) in TFDS format.
2. Baseline: the same work in plain tf.data on the same cores: read the guide's
   splits (train[:60%], 13,957 images), decode, resize to 150x150, encode,
   with the very ops Transform runs (trainer_module.pixels), parallel map;
   the fastest of BASELINE_RUNS runs.
3. Runs the pipeline's own TfdsExampleGen, StatisticsGen, SchemaGen and
   Transform (pipeline.create, `full` profile: 150 px, the guide's splits) with
   LocalDagRunner, once per Beam mode (in_memory, multi_processing with one
   worker per core), sampling the resident memory of the process and its
   children. Per component: images/s vs the baseline (goal >= 0.5x) and peak
   RSS (goal <= 6 GB); Transform's bytes per example (goal <= 70 KB).

    flock /tmp/heavy.lock python -m benchmarks.data_path [--examples 23262] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402
from tfx.orchestration import metadata  # noqa: E402
from tfx.orchestration.pipeline import Pipeline  # noqa: E402

from benchmarks.figures import Figure, Goal, RssSampler, record, stopwatch  # noqa: E402
from core.config import PipelineConfig  # noqa: E402
from pipeline import run_summary  # noqa: E402
from pipeline.create import create_pipeline  # noqa: E402
from pipeline.local_runner import run_dag  # noqa: E402
from pipeline.run_logging import captured_output  # noqa: E402
from pipeline.sample_data import (  # noqa: E402
    SAMPLE_DATASET_NAME,
    generate_sample_dataset,
    is_prepared,
    sample_builder_class,
)
from trainer_module import pixels  # noqa: E402

NAME = "data_path"
REAL_DATASET_SIZE = 23_262
BASELINE_RUNS = 3
DATA_COMPONENTS = ("TfdsExampleGen", "StatisticsGen", "SchemaGen", "Transform")
RATE_GOAL = Goal(0.5)
RSS_GOAL_GB = Goal(6.0, at_least=False, on_ratio=False)
BYTES_GOAL_KB = Goal(70.0, at_least=False, on_ratio=False)
GB = 1024**3


def guide_config(data_dir: str, output_dir: str, mode: str) -> PipelineConfig:
    """The `full` profile (the guide: 150 px, its splits) on the generated photos."""
    return PipelineConfig.for_profile(
        "full",
        dataset_name=SAMPLE_DATASET_NAME,
        data_dir=data_dir,
        output_dir=output_dir,
        enable_cache=False,
        beam_direct_running_mode=mode,
        beam_direct_num_workers=os.cpu_count() if mode == "multi_processing" else 1,
    )


def raw_tf_data(data_dir: str, splits: list[str], image_size: int) -> tuple[int, float]:
    """(images, seconds): read, decode, resize, encode the splits in plain tf.data."""
    builder = sample_builder_class(SAMPLE_DATASET_NAME, 2)(data_dir=data_dir)
    data = builder.as_dataset(
        split="+".join(splits), decoders={"image": tfds.decode.SkipDecoding()}
    )
    work = data.map(
        lambda example: pixels.encode_pixels(
            pixels.decode_and_resize(example["image"], image_size)
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).ignore_errors()  # the planted undecodable files, which ExampleGen skips
    with stopwatch() as timing:
        images = int(work.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))
    return images, timing["seconds"]


def dataset_shape(data_dir: str) -> Figure:
    """The generated dataset's median JPEG size, with its median dimensions and size range."""
    builder = sample_builder_class(SAMPLE_DATASET_NAME, 2)(data_dir=data_dir)
    data = builder.as_dataset(split="train", decoders={"image": tfds.decode.SkipDecoding()})
    jpegs = data.filter(lambda e: tf.strings.substr(e["image"], 0, 2) == b"\xff\xd8")
    sizes, heights, widths = [], [], []
    for size, shape in jpegs.map(
        lambda e: (tf.strings.length(e["image"]), tf.image.extract_jpeg_shape(e["image"]))
    ).ignore_errors():
        sizes.append(int(size))
        heights.append(int(shape[0]))
        widths.append(int(shape[1]))
    sizes.sort()
    decile = len(sizes) // 10
    return Figure(
        NAME,
        f"generated dataset: median JPEG size ({len(sizes)} JPEGs)",
        statistics.median(sizes) / 1024,
        "KB",
        note=f"10-90%: {sizes[decile] / 1024:.0f}-{sizes[-decile - 1] / 1024:.0f} KB; median "
        f"{statistics.median(widths):.0f}x{statistics.median(heights):.0f} px",
    )


def data_components_only(config: PipelineConfig) -> Pipeline:
    """The project's pipeline (pipeline.create) cut after Transform."""
    full = create_pipeline(
        config,
        metadata_connection_config=metadata.sqlite_metadata_connection_config(config.metadata_path),
    )
    kept = [c for c in full.components if c.id in DATA_COMPONENTS]
    for component in kept:
        for downstream in list(component.downstream_nodes):
            if downstream.id not in DATA_COMPONENTS:
                component.remove_downstream_node(downstream)
    return Pipeline(
        pipeline_name=full.pipeline_info.pipeline_name,
        pipeline_root=full.pipeline_info.pipeline_root,
        components=kept,
        enable_cache=False,
        metadata_connection_config=full.metadata_connection_config,
        beam_pipeline_args=full.beam_pipeline_args,
    )


def run_mode(
    data_dir: str, workdir: str, mode: str, raw_rate: float
) -> tuple[list[Figure], run_summary.RunSummary, PipelineConfig]:
    config = guide_config(data_dir, os.path.join(workdir, mode), mode)
    shutil.rmtree(config.output_dir, ignore_errors=True)  # a previous run's outputs
    log_path = os.path.join(config.output_dir, "logs", "data_path.log")
    with RssSampler() as memory, captured_output(log_path, verbose=False) as view:
        view.print(f"data components, Beam {mode} (log: {log_path})")
        run_dag(data_components_only(config))
    summary = run_summary.summarize_latest_run(
        config.metadata_path, config.runner.pipeline_name, config.profile
    )
    counts = summary.split_counts
    images = {
        "TfdsExampleGen": sum(counts.values()),
        "StatisticsGen": sum(counts.values()),
        # Transform analyzes train and transforms train and eval (pipeline.create).
        "Transform": counts["train"] + counts["eval"],
    }
    figures = []
    for component in summary.components:
        where = f"{component.component} ({mode})"
        if component.component in images:
            figures.append(
                Figure(
                    NAME,
                    f"{where} images/s",
                    images[component.component] / component.seconds,
                    "images/s",
                    baseline=raw_rate,
                    baseline_name="plain tf.data read+decode+resize+encode",
                    goal=RATE_GOAL,
                    note=f"{images[component.component]} images in {component.seconds:.0f} s",
                )
            )
        else:
            figures.append(Figure(NAME, f"{where} seconds", component.seconds, "s"))
        peak = memory.peak_between(component.started_at, component.started_at + component.seconds)
        figures.append(Figure(NAME, f"{where} peak RSS", peak / GB, "GB", goal=RSS_GOAL_GB))
    return figures, summary, config


def transformed_kb_per_example(pipeline_root: str, examples: int) -> float:
    files = glob.glob(
        os.path.join(pipeline_root, "Transform", "transformed_examples", "*", "*", "*")
    )
    return sum(os.path.getsize(f) for f in files) / examples / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=REAL_DATASET_SIZE)
    parser.add_argument("--workdir", default=os.path.join("outputs", "bench", "data_path"))
    parser.add_argument(
        "--modes", default="in_memory,multi_processing", help="Beam direct running modes"
    )
    args = parser.parse_args()
    data_dir = os.path.join(args.workdir, f"tfds_{args.examples}")
    if not is_prepared(data_dir):
        with stopwatch() as generation:
            generate_sample_dataset(data_dir, args.examples, photo_sizes=True)
        made = Figure(NAME, f"generating {args.examples} images (TFDS)", generation["seconds"], "s")
        record([made])
    record([dataset_shape(data_dir)])

    splits = list(guide_config(data_dir, args.workdir, "in_memory").data.splits().values())
    # The fastest of a few runs: this machine's noise only ever slows a run down, and
    # the strictest baseline is the fastest the same work was seen to go.
    runs = [raw_tf_data(data_dir, splits, 150) for _ in range(BASELINE_RUNS)]
    images = runs[0][0]
    raw_rate = images / min(seconds for _, seconds in runs)
    rates = ", ".join(f"{images / seconds:.0f}" for _, seconds in runs)
    record(
        [
            Figure(
                NAME,
                f"plain tf.data read+decode+resize+encode, {os.cpu_count()} cores",
                raw_rate,
                "images/s",
                note=f"{images} images; fastest of {BASELINE_RUNS} runs ({rates} images/s)",
            )
        ]
    )
    for mode in args.modes.split(","):
        figures, summary, config = run_mode(data_dir, args.workdir, mode, raw_rate)
        transformed = summary.split_counts["train"] + summary.split_counts["eval"]
        figures.append(
            Figure(
                NAME,
                f"Transform bytes/example at {config.data.image_size} px ({mode})",
                transformed_kb_per_example(config.pipeline_root, transformed),
                "KB",
                goal=BYTES_GOAL_KB,
                note="GZIP TFRecords on disk",
            )
        )
        record(figures)


if __name__ == "__main__":
    main()
