"""Command line of the local pipeline: run it, score images, generate the sample dataset."""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from pipeline import config as config_lib


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Image transfer learning (Xception, cats vs dogs) as a TFX pipeline.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the whole pipeline locally (LocalDagRunner)")
    config_lib.add_config_arguments(run)

    predict = commands.add_parser("predict", help="score image files with a pushed model")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--model", help="SavedModel dir (default: latest pushed version)")
    config_lib.add_config_arguments(predict)

    generate = commands.add_parser(
        "generate-sample", help="write the offline sample dataset in TFDS format"
    )
    config_lib.add_config_arguments(generate)
    generate.add_argument(
        "--if-missing", action="store_true", help="do nothing when it is already there"
    )

    args = parser.parse_args(argv)
    try:
        config = config_lib.config_from_args(args)
    except config_lib.ConfigError as error:
        parser.exit(2, f"error: {error}\n")
    return {"run": _run, "predict": _predict, "generate-sample": _generate}[args.command](
        config, args
    )


def _run(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    if not config.runner.verbose:
        # Import-time deprecation notices of Google client libraries, not about this run.
        warnings.filterwarnings("ignore", category=FutureWarning)
    from pipeline.local_runner import LATEST_RUN_FILE, run_locally
    from pipeline.preflight import PreflightError

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
            print(f"{p.path}\tdog_probability={p.probability:.4f}\t{p.class_name}")
    return 1 if any(p.error for p in predictions) else 0


def _generate(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    from pipeline import sample_data

    if args.if_missing and sample_data.is_prepared(config.data_dir):
        print(f"sample dataset already in {config.data_dir}")
        return 0
    path = sample_data.generate_sample_dataset(config.data_dir, config.data.sample_examples)
    print(f"sample dataset written to {path}")
    return 0
