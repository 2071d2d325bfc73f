"""Command line of the local pipeline: run it, score images, generate the sample dataset,
and manage trained models (`models list|show|promote|rollback`)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings

from core import config as config_lib
from pipeline import flags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Image transfer learning (Xception, cats vs dogs) as a TFX pipeline.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the whole pipeline locally (LocalDagRunner)")
    flags.add_config_arguments(run)

    predict = commands.add_parser("predict", help="score image files with a pushed model")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--model", help="SavedModel dir (default: latest pushed version)")
    flags.add_config_arguments(predict)

    generate = commands.add_parser(
        "generate-sample",
        help="write the offline sample dataset in TFDS format "
        "(--num-classes N --dataset-name NAME --data-dir DIR)",
    )
    flags.add_config_arguments(generate)
    generate.add_argument(
        "--if-missing", action="store_true", help="do nothing when it is already there"
    )

    show_config = commands.add_parser(
        "config", help="print the resolved configuration (profile + flags), validated"
    )
    flags.add_config_arguments(show_config)
    show_config.add_argument("--json", action="store_true", help="machine-readable output")

    _add_models_commands(commands)

    args = parser.parse_args(argv)
    try:
        config = flags.config_from_args(args)
    except config_lib.ConfigError as error:
        parser.exit(2, f"error: {error}\n")
    return {
        "run": _run,
        "predict": _predict,
        "generate-sample": _generate,
        "models": _models,
        "config": _show_config,
    }[args.command](config, args)


def _add_models_commands(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser(
        "models", help="trained models in ML Metadata: list, show, promote, rollback"
    )
    actions = models.add_subparsers(dest="models_command", required=True)
    list_ = actions.add_parser("list", help="every trained model, its metrics and versions")
    show = actions.add_parser("show", help="one model: metrics, thresholds, lineage")
    show.add_argument("model_id", type=int, metavar="ID", help="model id from `models list`")
    promote = actions.add_parser(
        "promote", help="publish a blessed model as the next serving version (recorded)"
    )
    promote.add_argument("model_id", type=int, metavar="ID", help="model id from `models list`")
    promote.add_argument(
        "--force", action="store_true", help="promote an unblessed model (needs --reason)"
    )
    rollback = actions.add_parser(
        "rollback", help="publish again the model served before the current one (recorded)"
    )
    for action in (list_, show):
        action.add_argument("--json", action="store_true", help="machine-readable output")
    for action in (promote, rollback):
        action.add_argument(
            "--to",
            metavar="SERVING_DIR",
            help="serving directory; versions go to SERVING_DIR/<model name>/<version> "
            "(default: <output dir>/serving)",
        )
        action.add_argument("--reason", default="", help="why (recorded in ML Metadata)")
    for action in (list_, show, promote, rollback):
        action.add_argument(
            "--mlmd-host", help="MLMD gRPC host (default: <output dir>/metadata.sqlite)"
        )
        action.add_argument(
            "--mlmd-port", type=int, default=config_lib.MLMD_GRPC_PORT, help="MLMD gRPC port"
        )
        flags.add_config_arguments(action)


def _run(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    if not config.runner.verbose:
        # Import-time deprecation notices of Google client libraries, not about this run.
        warnings.filterwarnings("ignore", category=FutureWarning)
    from pipeline.local_runner import LATEST_RUN_FILE, run_locally
    from pipeline.preflight import PreflightError

    if config.data.image_folder:
        from pipeline.image_folder import ImageFolderError, prepare_image_folder

        try:
            prepare_image_folder(
                config.data.image_folder, config.data.dataset_name, config.data_dir
            )
        except ImageFolderError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    try:
        summary = run_locally(config)
    except PreflightError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(summary.format())
    print(os.path.join(config.output_dir, LATEST_RUN_FILE))
    return 0


def _predict(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    from pipeline.predict import latest_model_dir, predict_files

    try:
        model_dir = args.model or latest_model_dir(config.model_serving_dir)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"model: {model_dir}")
    try:
        predictions = predict_files(model_dir, args.images)
    except ValueError as error:  # a model without the signature predict needs
        print(f"error: {error}", file=sys.stderr)
        return 2
    for p in predictions:
        if p.error:
            print(f"{p.path}\terror: {p.error}")
        else:
            print(f"{p.path}\t{p.class_name}\t{p.probability:.4f}")
    return 1 if any(p.error for p in predictions) else 0


def _generate(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    from pipeline import sample_data

    data = config.data
    if args.if_missing and sample_data.is_prepared(config.data_dir, data.dataset_name):
        print(f"sample dataset already in {config.data_dir}")
        return 0
    path = sample_data.generate_sample_dataset(
        config.data_dir,
        data.sample_examples,
        num_classes=data.num_classes,
        dataset_name=data.dataset_name,
    )
    print(f"sample dataset written to {path}")
    return 0


def _show_config(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    """What a run with the same flags would use: every field, after profile and flags."""
    resolved = config.to_dict()
    if args.json:
        print(json.dumps(resolved, indent=2, sort_keys=True))
        return 0
    print(f"profile = {resolved.pop('profile')}")
    for section, values in resolved.items():
        for name, value in values.items():
            print(f"{section}.{name} = {value!r}")
    return 0


def _models(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    if not config.runner.verbose:
        # Reading metrics imports TensorFlow: keep its start-up chatter off the terminal.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        warnings.filterwarnings("ignore")
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    from core.metadata import models, store
    from pipeline.registry import commands

    target = store.Target(
        sqlite_path=config.metadata_path, host=args.mlmd_host, port=args.mlmd_port
    )
    try:
        db = store.connect(target)
        if args.models_command == "list":
            records = models.list_models(db)
            if args.json:
                print(commands.to_json([commands.model_summary(r) for r in records]))
            else:
                print(commands.format_table(records))
        elif args.models_command == "show":
            details = commands.show(db, args.model_id)
            print(commands.to_json(details) if args.json else commands.format_details(details))
        else:
            model_serving_dir = os.path.join(
                os.path.abspath(args.to or config.serving_dir), config.evaluation.model_name
            )
            if args.models_command == "promote":
                model_id = args.model_id
                publication = commands.promote(
                    db, model_id, model_serving_dir, reason=args.reason, force=args.force
                )
            else:
                record, publication = commands.rollback(db, model_serving_dir, reason=args.reason)
                model_id = record.id
            print(
                f"model {model_id} is version {publication.version}: {publication.path} "
                f"({publication.action} recorded in ML Metadata at {target.describe()})"
            )
    except store.MetadataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
