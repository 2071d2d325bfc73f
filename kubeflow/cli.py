"""Command line of the Kubeflow variant: the same configuration flags as `python -m pipeline`."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator

from core import config as config_lib
from kubeflow.config_checks import check_kubeflow_config
from pipeline import flags

RUNS_LIMIT = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kubeflow",
        description="Compile, submit and schedule the pipeline on Kubeflow Pipelines v2.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    compile_ = commands.add_parser("compile", help="write the KFP v2 pipeline YAML (offline)")
    compile_.add_argument("--output", help="the .yaml to write (default: <pipeline-name>.yaml)")
    submit = commands.add_parser("submit", help="compile and start one run")
    submit.add_argument("--run-name", help="default: <pipeline-name> <UTC time>")
    commands.add_parser("schedule", help="compile and create the recurring run on --cron")
    runs = commands.add_parser("runs", help="list the experiment's recent runs with their state")
    runs.add_argument(
        "--limit", type=int, default=RUNS_LIMIT, help=f"newest runs shown [default: {RUNS_LIMIT}]"
    )
    commands.add_parser("unschedule", help="delete the recurring run created by `schedule`")
    for command in commands.choices.values():
        flags.add_config_arguments(command)
        # A cluster runs the guide's recipe unless told otherwise.
        command.set_defaults(profile="full")

    args = parser.parse_args(argv)
    try:
        config = flags.config_from_args(args)
        check_kubeflow_config(config)
    except config_lib.ConfigError as error:
        parser.exit(2, f"error: {error}\n")
    if not config.runner.verbose:
        # Import-time notices of TensorFlow and Google client libraries, not about this command.
        warnings.filterwarnings("ignore")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from kubeflow.client import KfpConnectionError
    from kubeflow.locations import check_cluster_locations

    try:
        if args.command in ("compile", "submit", "schedule"):
            check_cluster_locations(config)  # before the TFX import costs half a minute
        if args.command == "compile":
            from kubeflow.compile import compile_pipeline

            print(compile_pipeline(config, args.output or f"{config.runner.pipeline_name}.yaml"))
            return 0
        return _talk_to_cluster(config, args)
    except config_lib.ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KfpConnectionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _talk_to_cluster(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    from kubeflow import client as kfp_api

    connection = kfp_api.connect(config)  # first: a wrong host fails before compiling
    if args.command == "submit":
        run_name = args.run_name or time.strftime(
            f"{config.runner.pipeline_name} %Y-%m-%d %H:%M:%S", time.gmtime()
        )
        with _compiled_package(config) as package:
            print(f"run: {kfp_api.submit(connection, config, package, run_name)}")
        return 0
    if args.command == "schedule":
        with _compiled_package(config) as package:
            recurring_run_id = kfp_api.schedule(connection, config, package)
        print(f"recurring run: {recurring_run_id} (cron {config.kubeflow.cron!r})")
        return 0
    if args.command == "runs":
        runs = kfp_api.recent_runs(connection, config, args.limit)
        if not runs:
            print(f"no runs in experiment {config.kubeflow.kfp_experiment!r}")
        for run in runs:
            print(f"{run.run_id}\t{run.state}\t{run.created_at}\t{run.name}")
        return 0
    deleted = kfp_api.unschedule(connection, config)
    if not deleted:
        print(f"error: no recurring run named {kfp_api.schedule_name(config)!r}", file=sys.stderr)
        return 1
    print(f"deleted recurring run(s): {', '.join(deleted)}")
    return 0


@contextlib.contextmanager
def _compiled_package(config: config_lib.PipelineConfig) -> Iterator[str]:
    """The pipeline compiled from this very configuration, so a run never uses a stale package."""
    from kubeflow.compile import compile_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        yield compile_pipeline(config, os.path.join(tmp, "pipeline.yaml"))
