"""Benchmark: the data components at the real dataset's size, against plain tf.data.

1. Generates (once) 23,262 JPEGs shaped like cats_vs_dogs (median 500x375,
   ~20-40 KB; `pipeline.sample_data` with `photo_sizes`) in TFDS format.
2. Baseline: the same work in plain tf.data on the same cores: read the guide's
   splits (train[:60%], 13,957 images), decode, resize to 150x150, encode,
   with the very ops Transform runs (trainer_module.pixels), parallel map.
3. Runs the pipeline's own TfdsExampleGen, StatisticsGen, SchemaGen and
   Transform (pipeline.create, `full` profile: 150 px, the guide's splits) with
   LocalDagRunner, per Beam mode (in_memory, multi_processing with one worker
   per core), sampling the resident memory of the process and its children.
4. ROUNDS rounds, interleaved: in each, per mode, the baseline then the
   components. Per component: the median images/s against the baseline's
   median, with the spread of each run's ratio to the baseline run before it
   (goal >= 0.5x across it), and peak RSS (goal <= 6 GB); Transform's bytes per
   example (goal <= 70 KB).

    flock /tmp/heavy.lock python -m benchmarks.data_path [--examples 23262] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import statistics
from dataclasses import dataclass, field

import tensorflow as tf
import tensorflow_datasets as tfds
from tfx.orchestration import metadata
from tfx.orchestration.pipeline import Pipeline

from benchmarks.figures import Figure, Goal, RssSampler, record, stopwatch
from core.config import PipelineConfig
from pipeline import run_summary
from pipeline.create import create_pipeline
from pipeline.local_runner import run_dag
from pipeline.portable_beam import portable_services
from pipeline.run_logging import captured_output
from pipeline.sample_data import (
    SAMPLE_DATASET_NAME,
    generate_sample_dataset,
    is_prepared,
    sample_builder_class,
)
from trainer_module import pixels

NAME = "data_path"
# Beam's portable runner: its job service and one external SDK worker (pipeline.portable_beam).
PORTABLE = "portable"
REAL_DATASET_SIZE = 23_262
ROUNDS = 3  # of each mode and of the plain tf.data baseline, interleaved
DATA_COMPONENTS = ("TfdsExampleGen", "StatisticsGen", "SchemaGen", "Transform")
RATE_GOAL = Goal(0.5)
RSS_GOAL_GB = Goal(6.0, at_least=False, on_ratio=False)
BYTES_GOAL_KB = Goal(70.0, at_least=False, on_ratio=False)
GB = 1024**3


def guide_config(
    data_dir: str, output_dir: str, mode: str, beam_options: str = ""
) -> PipelineConfig:
    """The `full` profile (the guide: 150 px, its splits) on the generated photos, with the
    DirectRunner in `mode`, or the portable runner (mode PORTABLE, `beam_options` its
    services')."""
    portable = mode == PORTABLE
    return PipelineConfig.for_profile(
        "full",
        dataset_name=SAMPLE_DATASET_NAME,
        data_dir=data_dir,
        output_dir=output_dir,
        enable_cache=False,
        beam_direct_running_mode="in_memory" if portable else mode,
        beam_direct_num_workers=os.cpu_count() if mode == "multi_processing" else 1,
        beam_runner="PortableRunner" if portable else "DirectRunner",
        beam_options=beam_options,
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


def data_components_only(config: PipelineConfig, enable_cache: bool = False) -> Pipeline:
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
        enable_cache=enable_cache,
        metadata_connection_config=full.metadata_connection_config,
        beam_pipeline_args=full.beam_pipeline_args,
    )


@dataclass
class ModeRuns:
    """One Beam mode's rounds: per component, its rates (or seconds) and peak memory, and
    the plain tf.data rate measured right before each round."""

    baseline_rates: list[float] = field(default_factory=list)
    rates: dict[str, list[float]] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=dict)
    peaks: dict[str, list[float]] = field(default_factory=dict)
    images: dict[str, int] = field(default_factory=dict)
    kb_per_example: float = 0.0


def run_mode(data_dir: str, workdir: str, mode: str, runs: ModeRuns) -> None:
    """One run of the data components in Beam `mode`, added to `runs`. The portable
    runner's services are started for the run, as this process's children: the memory
    sampled is this process, the job service, the worker pool and its one SDK worker."""
    output_dir = os.path.join(workdir, mode)
    shutil.rmtree(output_dir, ignore_errors=True)  # a previous run's outputs
    log_path = os.path.join(output_dir, "logs", "data_path.log")
    with contextlib.ExitStack() as running:
        memory = running.enter_context(RssSampler())
        beam_options = ""
        if mode == PORTABLE:
            services = running.enter_context(portable_services(os.path.join(output_dir, "beam")))
            beam_options = services.beam_options
        config = guide_config(data_dir, output_dir, mode, beam_options)
        view = running.enter_context(captured_output(log_path, verbose=False))
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
    for component in summary.components:
        name = component.component
        if name in images:
            runs.images[name] = images[name]
            runs.rates.setdefault(name, []).append(images[name] / component.seconds)
        else:
            runs.seconds.setdefault(name, []).append(component.seconds)
        peak = memory.peak_between(component.started_at, component.started_at + component.seconds)
        runs.peaks.setdefault(name, []).append(peak / GB)
    runs.kb_per_example = transformed_kb_per_example(
        config.pipeline_root, counts["train"] + counts["eval"]
    )


def mode_figures(mode: str, runs: ModeRuns, image_size: int) -> list[Figure]:
    """Per component: rate against the plain tf.data runs next to it, peak memory."""
    figures = []
    for name, rates in runs.rates.items():
        figures.append(
            Figure.paired(
                NAME,
                f"{name} ({mode}) images/s",
                rates,
                runs.baseline_rates,
                "images/s",
                baseline_name="plain tf.data read+decode+resize+encode",
                goal=RATE_GOAL,
                note=f"{runs.images[name]} images",
            )
        )
    for name, seconds in runs.seconds.items():
        figures.append(
            Figure(NAME, f"{name} ({mode}) seconds", statistics.median(seconds), "s")
        )
    for name, peaks in runs.peaks.items():
        figures.append(
            Figure(
                NAME, f"{name} ({mode}) peak RSS", max(peaks), "GB", goal=RSS_GOAL_GB,
                note=f"highest of {len(peaks)} runs",
            )
        )  # fmt: skip
    figures.append(
        Figure(
            NAME,
            f"Transform bytes/example at {image_size} px ({mode})",
            runs.kb_per_example,
            "KB",
            goal=BYTES_GOAL_KB,
            note="GZIP TFRecords on disk",
        )
    )
    return figures


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
        "--modes",
        default=f"in_memory,multi_processing,{PORTABLE}",
        help="DirectRunner running modes, and the portable runner",
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="runs of each, interleaved")
    args = parser.parse_args()
    data_dir = os.path.join(args.workdir, f"tfds_{args.examples}")
    if not is_prepared(data_dir):
        with stopwatch() as generation:
            generate_sample_dataset(data_dir, args.examples, photo_sizes=True)
        made = Figure(NAME, f"generating {args.examples} images (TFDS)", generation["seconds"], "s")
        record([made])
    record([dataset_shape(data_dir)])

    splits = list(guide_config(data_dir, args.workdir, "in_memory").data.splits().values())
    modes = {mode: ModeRuns() for mode in args.modes.split(",")}
    # Like with like: each component run has its own plain tf.data run right before it, as
    # many of each, interleaved, so that the machine's drift touches both alike.
    for round_ in range(args.rounds):
        for mode, runs in modes.items():
            images, seconds = raw_tf_data(data_dir, splits, 150)
            runs.baseline_rates.append(images / seconds)
            print(f"round {round_ + 1}, {mode}: plain tf.data {images / seconds:.0f} images/s")
            run_mode(data_dir, args.workdir, mode, runs)
    baseline_rates = [rate for runs in modes.values() for rate in runs.baseline_rates]
    record(
        [
            Figure(
                NAME,
                f"plain tf.data read+decode+resize+encode, {os.cpu_count()} cores",
                statistics.median(baseline_rates),
                "images/s",
                note=f"median of {len(baseline_rates)} runs "
                f"({min(baseline_rates):.0f}–{max(baseline_rates):.0f} images/s)",
            )
        ]
    )
    for mode, runs in modes.items():
        record(mode_figures(mode, runs, 150))


if __name__ == "__main__":
    main()
