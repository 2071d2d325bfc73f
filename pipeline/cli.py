"""Command line of the local pipeline: run it, score images, generate the sample dataset,
and manage trained models (`models list|show|promote|rollback`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

from core import config as config_lib
from pipeline import flags
from pipeline.quiet import held_for_the_log, quiet_libraries

# The local commands use every section but Kubeflow's (only `python -m kubeflow` has those);
# `sample_examples` is generate-sample's alone.
_RUN_SECTIONS = ("data", "training", "evaluation", "runner")
_RUN_FIELDS = flags.fields_of(*_RUN_SECTIONS, without=("sample_examples",))
# Where pushed models are: `<serving dir>/<model name>/<version>`.
_SERVING_FIELDS = ("output_dir", "serving_dir", "model_name", "verbose")
# Blessed models `gc` keeps by default, besides those a serving version holds.
GC_KEEP = 3


def build_parser() -> argparse.ArgumentParser:
    """Every command and its flags (the tests walk them: each flag a help names must work)."""
    parser = flags.StrictParser(
        prog="python -m pipeline",
        description="Image transfer learning (Xception, cats vs dogs) as a TFX pipeline.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="run the whole pipeline locally (LocalDagRunner)",
        usage="python -m pipeline run [--profile {sample,full}] [options]",
    )
    flags.add_config_arguments(run, sections=_RUN_SECTIONS, fields=_RUN_FIELDS)

    predict = commands.add_parser(
        "predict",
        help="score image files with a pushed model",
        description="Prints one line per image: the file, the class the model chose, and its "
        "probability of that class (the model's confidence, from 0 to 1).",
    )
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="JPEG/PNG/GIF/BMP files")
    predict.add_argument("--model", help="SavedModel dir (default: latest pushed version)")
    flags.add_config_arguments(predict, sections=_RUN_SECTIONS, fields=_SERVING_FIELDS)

    generate = commands.add_parser(
        "generate-sample",
        help="write the offline sample dataset in TFDS format "
        "(--num-classes N --dataset-name NAME --data-dir DIR)",
    )
    flags.add_config_arguments(
        generate,
        sections=("data", "runner"),
        fields=("data_dir", "dataset_name", "num_classes", "sample_examples", "verbose"),
    )
    generate.add_argument(
        "--if-missing", action="store_true", help="do nothing when it is already there"
    )

    show_config = commands.add_parser(
        "config", help="print the resolved configuration (profile + flags), validated"
    )
    flags.add_config_arguments(show_config)
    show_config.add_argument("--json", action="store_true", help="machine-readable output")
    report = commands.add_parser("report", help="rebuild (or open) the HTML report of a run")
    report.add_argument(
        "run_id", nargs="?", metavar="RUN_ID", help="a run id (default: the newest run)"
    )
    report.add_argument("--open", action="store_true", help="open it in the web browser")
    flags.add_config_arguments(report, sections=("runner",), fields=("output_dir", "verbose"))

    _add_models_commands(commands)
    gc = commands.add_parser(
        "gc",
        help="remove the files of old runs; keeps served versions and their lineage, the "
        "newest blessed models, what a running run uses (--dry-run lists what would go)",
    )
    add_gc_arguments(gc)
    flags.add_config_arguments(
        gc, sections=_RUN_SECTIONS, fields=(*_SERVING_FIELDS, "pipeline_name")
    )

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = flags.config_from_args(args)
    except config_lib.ConfigError as error:
        parser.exit(2, f"error: {error}\n")
    command = {
        "run": _run,
        "predict": _predict,
        "generate-sample": _generate,
        "models": _models,
        "config": _show_config,
        "report": _report,
        "gc": _gc,
    }[args.command]
    try:
        return command(config, args)
    except KeyboardInterrupt:  # a run interrupted mid-pipeline says more (RunInterruptedError)
        print(f"interrupted: {args.command} stopped before it finished", file=sys.stderr)
        return 130


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
        "--force",
        action="store_true",
        help="promote an unblessed model, or publish again the model already serving as the "
        "latest version (needs --reason)",
    )
    rollback = actions.add_parser(
        "rollback", help="publish again the model served before the current one (recorded)"
    )
    for action in (list_, show):
        action.add_argument("--json", action="store_true", help="machine-readable output")
    for action in (promote, rollback):
        action.add_argument("--reason", default="", help="why (recorded in ML Metadata)")
    for action in (list_, show, promote, rollback):
        action.add_argument(
            "--mlmd-host", help="MLMD gRPC host (default: <output dir>/metadata.sqlite)"
        )
        action.add_argument(
            "--mlmd-port",
            type=int,
            default=config_lib.MLMD_GRPC_PORT,
            help="MLMD gRPC port [default: %(default)s]",
        )
        # One KFP store holds every namespace's runs, and KFP names a pipeline's context
        # after its name alone: the namespace is what keeps one team's models from another's.
        action.add_argument(
            "--kfp-namespace",
            default="",
            help="only models of runs in this Kubeflow profile namespace (with --mlmd-host); "
            "default: the one namespace the store holds, or local runs",
        )
    for action in (list_, show):
        flags.add_config_arguments(
            action, sections=("runner",), fields=("output_dir", "pipeline_name", "verbose")
        )
    for action in (promote, rollback):
        flags.add_config_arguments(
            action, sections=_RUN_SECTIONS, fields=(*_SERVING_FIELDS, "pipeline_name")
        )


def _run(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    if not config.runner.verbose:
        # Import-time deprecation notices of Google client libraries, not about this run.
        warnings.filterwarnings("ignore", category=FutureWarning)
    from pipeline import run_lock

    try:
        run_lock.ensure_free(config.output_dir)
    except run_lock.RunLockedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    problem = None
    # TensorFlow's start-up lines and TFDS's progress go to the run's log, not the terminal.
    with held_for_the_log(config.runner.verbose) as held:
        from pipeline.local_runner import LATEST_RUN_FILE, RunInterruptedError, run_locally
        from pipeline.preflight import PreflightError, with_the_datasets_class_count

        if config.data.image_folder:
            from pipeline import image_folder

            try:
                config = _prepared_image_folder(config, args, held.terminal)
            except image_folder.ImageFolderError as error:
                problem = error
        elif "num_classes" not in flags.given_fields(args):
            config = with_the_datasets_class_count(config)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        summary = run_locally(config, preamble=held.text())
    except PreflightError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RunInterruptedError as interrupted:
        print(f"interrupted: {interrupted}", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(summary.format())
    print(os.path.join(config.output_dir, LATEST_RUN_FILE))
    return 0


def _prepared_image_folder(
    config: config_lib.PipelineConfig, args: argparse.Namespace, terminal
) -> config_lib.PipelineConfig:
    """Writes the folder as a TFDS dataset; returns the configuration the folder implies."""
    from pipeline import image_folder

    config, layout = image_folder.folder_config(config, flags.given_fields(args))
    prepared = image_folder.prepare_image_folder(layout, config.data.dataset_name, config.data_dir)
    splits = ", ".join(
        f"{split} {prepared.counts[split]}"
        for split in sorted(prepared.counts, key=image_folder.SPLIT_ORDER.index)
    )
    classes = layout.class_names
    done = "prepared" if prepared.rewritten else "unchanged since prepared:"
    print(
        f"{done} {config.data.dataset_name} from {config.data.image_folder}: {splits} images, "
        f"{len(classes)} classes ({', '.join(classes)}); splits train={config.data.train_split} "
        f"eval={config.data.eval_split} test={config.data.test_split}",
        file=terminal,
    )
    return config


def _predict(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    with quiet_libraries(config.runner.verbose):
        from pipeline import predict
    if not args.model and "model_name" not in flags.given_fields(args):
        # `run --image-folder DIR` named the model after the folder: find it without a flag.
        served = predict.served_model_names(config.serving_dir)
        if config.evaluation.model_name not in served and len(served) == 1:
            config = config.replace(model_name=served[0])
        elif config.evaluation.model_name not in served and served:
            print(
                f"error: {config.serving_dir} serves the models {', '.join(served)}: pass "
                "--model-name NAME (or --model DIR)",
                file=sys.stderr,
            )
            return 2
    try:
        # Warnings about skipped versions are collected, then printed outside the quiet block.
        with quiet_libraries(config.runner.verbose):
            if args.model:
                model_dir, serve, skipped = args.model, predict.load_image_signature(args.model), []
            else:
                model_dir, serve, skipped = predict.load_newest_model(config.model_serving_dir)
            predictions = predict.predict_files(serve, args.images)
    except (FileNotFoundError, predict.ModelLoadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for warning in skipped:
        print(f"warning: {warning}; skipped", file=sys.stderr)
    for warning in _small_images(args.images, config.data.image_size):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"model: {model_dir}")
    print("image\tclass\tprobability of that class")
    for p in predictions:
        if p.error:
            print(f"{p.path}\terror: {p.error}")
        else:
            print(f"{p.path}\t{p.class_name}\t{p.probability:.4f}")
    return 1 if any(p.error for p in predictions) else 0


def _small_images(paths: list[str], image_size: int) -> list[str]:
    """Images far below the model's input size are blown up to it: say so for each."""
    from PIL import Image, UnidentifiedImageError

    warnings = []
    for path in paths:
        try:
            with Image.open(path) as image:
                width, height = image.size
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
            continue  # the prediction line says what is wrong with it
        if min(width, height) * 2 < image_size:
            warnings.append(
                f"{path} is {width}x{height} pixels, far below the model's {image_size}x"
                f"{image_size} input: it is enlarged to it, and its score is less reliable"
            )
    return warnings


def _generate(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    given = flags.given_fields(args)
    if config.data.num_classes != 2 and "dataset_name" not in given:
        # Not over the two-class sample the demo uses: a name of its own.
        config = config.replace(dataset_name=f"sample_{config.data.num_classes}_classes")
    with quiet_libraries(config.runner.verbose, stdout=True):
        from pipeline import sample_data

        data = config.data
        prepared = args.if_missing and sample_data.is_prepared(config.data_dir, data.dataset_name)
    if prepared:
        print(f"sample dataset {config.data.dataset_name} already in {config.data_dir}")
        return 0
    print(
        f"writing the sample dataset {config.data.dataset_name} ({config.data.sample_examples} "
        f"images, {config.data.num_classes} classes) to {config.data_dir} ...",
        end="" if not config.runner.verbose else "\n",
        flush=True,
    )
    with quiet_libraries(config.runner.verbose, stdout=True):
        path = sample_data.generate_sample_dataset(
            config.data_dir,
            data.sample_examples,
            num_classes=data.num_classes,
            dataset_name=data.dataset_name,
        )
    print(f" done: {path}")
    return 0


def _report(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    with quiet_libraries(config.runner.verbose):  # matplotlib may build its font cache
        from pipeline.report import local as report
    try:
        with quiet_libraries(config.runner.verbose):
            path = report.write_report(config.output_dir, args.run_id)
    except report.ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(path)
    if args.open:
        import webbrowser

        webbrowser.open("file://" + path)
    return 0


def add_gc_arguments(parser: argparse.ArgumentParser) -> None:
    """`--keep` and `--dry-run`, shared with `python -m kubeflow gc`."""
    parser.add_argument(
        "--keep",
        type=int,
        default=GC_KEEP,
        metavar="N",
        help="blessed models kept besides the served ones, newest first (at least 1: the "
        f"newest is the next run's baseline) [default: {GC_KEEP}]",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be removed, and its size"
    )


def _gc(config: config_lib.PipelineConfig, args: argparse.Namespace) -> int:
    from core.metadata import models, store
    from pipeline import gc, run_lock

    if args.keep < 1:
        print(
            f"error: --keep {args.keep}: keep at least 1 blessed model, the newest, which the "
            "next run compares against",
            file=sys.stderr,
        )
        return 2
    try:
        db = store.connect(store.Target(sqlite_path=config.metadata_path))
        # One run at a time per output directory, and gc counts as one: what a run is
        # writing is never collected under it.
        with quiet_libraries(config.runner.verbose), run_lock.output_dir_lock(config.output_dir):
            scope = models.Scope("", config.runner.pipeline_name)
            collection = gc.collect(db, config, scope, args.keep, args.dry_run)
    except run_lock.RunLockedError as error:
        print(f"error: {error}; run gc once it has finished", file=sys.stderr)
        return 1
    except store.MetadataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(collection.format())
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
    from core.metadata import store

    try:
        with quiet_libraries(config.runner.verbose):
            output = _models_output(config, args)
    except store.MetadataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(output)
    return 0


def _models_output(config: config_lib.PipelineConfig, args: argparse.Namespace) -> str:
    """What `models ...` prints; MetadataError when it cannot do what was asked."""
    from core.metadata import models, store
    from pipeline.registry import commands

    target = store.Target(
        sqlite_path=config.metadata_path, host=args.mlmd_host, port=args.mlmd_port
    )
    db = store.connect(target)
    scope = models.reader_scope(db, args.kfp_namespace, config.runner.pipeline_name)
    if args.models_command == "list":
        records = models.list_models(db, scope)
        if args.json:
            return commands.to_json([commands.model_summary(r) for r in records])
        return commands.format_table(records)
    if args.models_command == "show":
        details = commands.show(db, args.model_id, scope)
        return commands.to_json(details) if args.json else commands.format_details(details)
    model_serving_dir = config.model_serving_dir
    if args.models_command == "promote":
        model_id = args.model_id
        publication = commands.promote(
            db, model_id, model_serving_dir, reason=args.reason, force=args.force, scope=scope
        )
    else:
        record, publication = commands.rollback(
            db, model_serving_dir, reason=args.reason, scope=scope
        )
        model_id = record.id
    if publication.action == commands.ALREADY_SERVING:
        return (
            f"model {model_id} is already serving as version {publication.version}: "
            f"{publication.path} (nothing published; add --force --reason '...' to "
            "publish it again as a new version)"
        )
    return (
        f"model {model_id} is version {publication.version}: {publication.path} "
        f"({publication.action} recorded in ML Metadata at {target.describe()})"
    )
