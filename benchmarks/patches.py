"""Benchmark: what each patch of a library's internals saves Transform, at the real size.

A patch of someone else's internals stays only if it saves at least 10 % of its
component's time (issue 24). Transform is where the Beam patches were made to
pay: it writes 67 KB of pixels per example, reads the analyze split, and runs
many small bundles. This measures each patch by taking it away:

1. One run of the data components (`benchmarks.data_path`'s generated photos,
   the `full` profile) leaves ExampleGen, StatisticsGen and SchemaGen in the
   cache.
2. Then Transform alone runs again and again (a new custom_config each time, so
   it is no cache hit), interleaved: with every patch, then without each patch in
   turn; REPEATS rounds. Taking one away is done here, in the benchmark, by
   replacing the shim with a no-op for that run. (Beam's state-sampling period and
   Transform's analysis-input skip were measured the same way and removed: about
   9 % each, 0.909x at the median, pairs up to 0.99x.)

Per patch: Transform's median seconds with all patches against without that one,
the spread of the pairwise ratios, goal <= 0.90 across the spread (a saving of 10 %).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
from collections.abc import Callable
from unittest import mock

from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.types import standard_component_specs

from benchmarks.data_path import REAL_DATASET_SIZE, data_components_only, guide_config
from benchmarks.figures import Figure, Goal, record
from core import shims
from pipeline import run_summary
from pipeline.run_logging import captured_output
from pipeline.sample_data import generate_sample_dataset, is_prepared

NAME = "patches"
REPEATS = 3
SAVING_GOAL = Goal(0.90, at_least=False)  # with / without: the patch saves >= 10 %


def _no_op(*_args, **_kwargs) -> contextlib.AbstractContextManager:
    return contextlib.nullcontext()


# Patch -> what runs Transform without it (every other shim applied as in a pipeline run).
WITHOUT: dict[str, Callable[[], contextlib.AbstractContextManager]] = {
    "stored GZIP blocks (shims.gzip_write_level)": lambda: mock.patch.object(
        shims, "gzip_write_level", _no_op
    ),
    "hardware CRC32C (shims.hardware_crc32c)": lambda: mock.patch.object(
        shims, "hardware_crc32c", _no_op
    ),
}


def transform_seconds(config, run: int, without: str | None) -> float:
    """Transform once more (upstream from the cache), without the patch `without`."""
    pipeline = data_components_only(config, enable_cache=True)
    transform = next(c for c in pipeline.components if c.id == "Transform")
    key = standard_component_specs.CUSTOM_CONFIG_KEY
    custom = json.loads(transform.exec_properties[key])
    transform.exec_properties[key] = json.dumps({**custom, "bench_run": run})
    patched_away = WITHOUT[without]() if without else contextlib.nullcontext()
    with patched_away:
        LocalDagRunner().run(pipeline)
    summary = run_summary.summarize_latest_run(
        config.metadata_path, config.runner.pipeline_name, config.profile
    )
    (component,) = [c for c in summary.components if c.component == "Transform"]
    if component.status != "complete":
        raise RuntimeError(f"Transform did not run ({component.status}) in run {run}")
    return component.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=REAL_DATASET_SIZE)
    parser.add_argument(
        "--data-path-workdir", default=os.path.join("outputs", "bench", "data_path")
    )
    parser.add_argument("--workdir", default=os.path.join("outputs", "bench", "patches"))
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    data_dir = os.path.join(args.data_path_workdir, f"tfds_{args.examples}")
    if not is_prepared(data_dir):
        generate_sample_dataset(data_dir, args.examples, photo_sizes=True)
    shutil.rmtree(args.workdir, ignore_errors=True)
    config = guide_config(data_dir, args.workdir, "in_memory")
    runs = itertools.count(1)  # each Transform run its own custom_config: never a cache hit
    log_path = os.path.join(args.workdir, "logs", "patches.log")
    with_all: list[float] = []
    without: dict[str, list[float]] = {patch: [] for patch in WITHOUT}
    with captured_output(log_path, verbose=False) as view:
        view.print(f"Transform without each patch in turn, {args.repeats} rounds (log: {log_path})")
        transform_seconds(config, 0, None)  # fills the cache upstream; not counted
        for round_ in range(args.repeats):
            with_all.append(transform_seconds(config, next(runs), None))
            for patch, seconds in without.items():
                seconds.append(transform_seconds(config, next(runs), patch))
            view.print(f"round {round_ + 1}: all patches {with_all[-1]:.1f} s")
    record(
        [
            Figure.paired(
                NAME,
                f"Transform with all patches vs without the {patch}",
                with_all,
                seconds,
                "s",
                baseline_name=f"without the {patch.split(' (')[0]}",
                goal=SAVING_GOAL,
                note=f"{args.examples} images; without: "
                + ", ".join(f"{s:.1f}" for s in seconds)
                + " s; with all: "
                + ", ".join(f"{s:.1f}" for s in with_all)
                + " s",
            )
            for patch, seconds in without.items()
        ]
    )


if __name__ == "__main__":
    main()
