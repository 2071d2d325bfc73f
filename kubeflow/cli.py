"""Command line of the Kubeflow variant: the same configuration flags as `python -m pipeline`."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from typing import TYPE_CHECKING

from core import config as config_lib

if TYPE_CHECKING:
    from kubeflow import client as kfp_api
from kubeflow.config_checks import check_kubeflow_config
from pipeline import flags
from pipeline.cli import add_gc_arguments

RUNS_LIMIT = 10
# The configuration fields each command reads: each shows and accepts only those.
_CONNECTION_FIELDS = ("kfp_host", "kfp_namespace", "verbose")
_EXPERIMENT_FIELDS = (*_CONNECTION_FIELDS, "kfp_experiment", "pipeline_name")
# What goes into a compiled pipeline: every field but the local-only ones (your own photos
# are prepared locally; the sample size is generate-sample's) and the API's.
_COMPILED_FIELDS = flags.fields_of(
    "data", "training", "evaluation", "runner", "kubeflow",
    without=(
        "image_folder", "eval_fraction", "test_fraction", "sample_examples",
        "kfp_host", "kfp_namespace", "kfp_experiment", "cron", "max_concurrency",
    ),
)  # fmt: skip
_COMMAND_FIELDS = {
    "compile": _COMPILED_FIELDS,
    "submit": (*_COMPILED_FIELDS, *_EXPERIMENT_FIELDS),
    "schedule": (*_COMPILED_FIELDS, *_EXPERIMENT_FIELDS, "cron", "max_concurrency"),
    "runs": _EXPERIMENT_FIELDS,
    "unschedule": _EXPERIMENT_FIELDS,
    # `resume` restarts what a run was compiled with: it only needs to reach the API.
    "resume": _CONNECTION_FIELDS,
    "gc": (*_CONNECTION_FIELDS, "output_dir", "serving_dir", "model_name", "pipeline_name"),
}


def build_parser() -> argparse.ArgumentParser:
    """Every command and its flags (the tests walk them: each flag a help names must work)."""
    parser = flags.StrictParser(
        prog="python -m kubeflow",
        description="Compile, submit and schedule the pipeline on Kubeflow Pipelines v2.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    compile_ = commands.add_parser("compile", help="write the KFP v2 pipeline YAML (offline)")
    compile_.add_argument("--output", help="the .yaml to write (default: <pipeline-name>.yaml)")
    submit = commands.add_parser("submit", help="compile, upload as a version, start one run")
    submit.add_argument("--run-name", help="default: <pipeline-name> <UTC time>")
    schedule = commands.add_parser(
        "schedule", help="compile, upload as a version, create the recurring run on --cron"
    )
    schedule.add_argument(
        "--replace", action="store_true", help="replace the recurring run if it exists"
    )
    runs = commands.add_parser("runs", help="list the experiment's recent runs with their state")
    runs.add_argument(
        "--limit", type=int, default=RUNS_LIMIT, help=f"newest runs shown [default: {RUNS_LIMIT}]"
    )
    commands.add_parser("unschedule", help="delete the recurring run created by `schedule`")
    resume = commands.add_parser(
        "resume",
        help="finish a failed run: a new run of its pipeline version, cached up to what failed "
        "(a lost Trainer resumes at its next epoch)",
    )
    resume.add_argument("run_id", metavar="RUN_ID", help="the failed run, from `runs`")
    gc = commands.add_parser(
        "gc",
        help="remove the files of a namespace's old runs from the bucket, and the runs from "
        "KFP (so that its cache forgets them); keeps served versions and their lineage",
    )
    add_gc_arguments(gc)
    gc.add_argument(
        "--mlmd-host", required=True, help="the cluster's MLMD gRPC service, e.g. a port-forward"
    )
    gc.add_argument(
        "--mlmd-port",
        type=int,
        default=config_lib.MLMD_GRPC_PORT,
        help="its port [default: %(default)s]",
    )
    for name, command in commands.choices.items():
        flags.add_config_arguments(command, fields=_COMMAND_FIELDS.get(name))
        # A cluster runs the guide's recipe unless told otherwise.
        command.set_defaults(profile="full")

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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

    from kubeflow.client import KfpConnectionError, ResumeError, ScheduleExistsError
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
    except (KfpConnectionError, ScheduleExistsError, ResumeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _talk_to_cluster(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    from kubeflow import client as kfp_api

    connection = kfp_api.connect(config)  # first: a wrong host fails before compiling
    if args.command == "submit":
        run_name = args.run_name or time.strftime(
            f"{config.runner.pipeline_name} %Y-%m-%d %H:%M:%S", time.gmtime()
        )
        version = _uploaded_version(connection, config)
        print(f"run: {kfp_api.submit(connection, config, version, run_name)}")
        return 0
    if args.command == "schedule":
        replaced = kfp_api.check_can_schedule(connection, config, args.replace)
        version = _uploaded_version(connection, config)
        recurring_run_id = kfp_api.schedule(connection, config, version, replaced)
        if replaced:
            print(f"replaced recurring run(s): {', '.join(replaced)}")
        print(f"recurring run: {recurring_run_id} (cron {config.kubeflow.cron!r})")
        return 0
    if args.command == "gc":
        return _gc(config, args, connection)
    if args.command == "resume":
        run_id, name = kfp_api.resume(connection, args.run_id)
        print(f"run: {run_id} ({name})")
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


def _gc(
    config: config_lib.PipelineConfig, args: argparse.Namespace, connection: kfp_api.Connection
) -> int:
    from core.metadata import models, store
    from kubeflow import client as kfp_api
    from pipeline import gc

    if args.keep < 1:
        print(f"error: --keep {args.keep}: keep at least 1 blessed model", file=sys.stderr)
        return 2
    try:
        db = store.connect(store.Target(host=args.mlmd_host, port=args.mlmd_port))
        scope = models.reader_scope(db, config.kubeflow.kfp_namespace, config.runner.pipeline_name)
        collection = gc.collect(
            db,
            config,
            scope,
            args.keep,
            args.dry_run,
            forget_runs=lambda runs: kfp_api.delete_runs(connection, runs),
        )
    except store.MetadataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{scope.describe()}:")
    print(collection.format())
    return 0


def _uploaded_version(
    connection: kfp_api.Connection, config: config_lib.PipelineConfig
) -> kfp_api.PipelineVersion:
    """The pipeline compiled from this very configuration (never a stale package), uploaded."""
    from kubeflow import client as kfp_api
    from kubeflow.compile import compile_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        package = compile_pipeline(config, os.path.join(tmp, "pipeline.yaml"))
        version = kfp_api.upload_version(connection, config, package)
    print(f"pipeline version: {version.name} ({version.version_id})")
    return version
