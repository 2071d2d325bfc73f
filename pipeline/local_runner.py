"""Runs the pipeline with TFX's LocalDagRunner, MLMD in sqlite, and writes the run summary."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import os
import time

from tfx.orchestration import metadata
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.pipeline import Pipeline

from core.config import PipelineConfig
from pipeline import run_summary
from pipeline.create import create_pipeline
from pipeline.preflight import check_inputs
from pipeline.report import local as report
from pipeline.run_lock import output_dir_lock
from pipeline.run_logging import ProgressView, captured_output

LATEST_RUN_FILE = "latest_run.json"


class RunInterruptedError(RuntimeError):
    """The run was interrupted (Ctrl-C); the message says what completed and how to go on."""


def run_locally(config: PipelineConfig, preamble: str = "") -> run_summary.RunSummary:
    """Checks inputs, runs every component, writes `<output dir>/latest_run.json`.

    Args:
        config: a validated configuration.
        preamble: library output from before the run (TensorFlow's start-up lines, TFDS's
            progress), written at the top of the run's log.

    Returns:
        The run's summary, read back from ML Metadata.

    Raises:
        PreflightError: before anything runs, when data or weights are missing.
        RunInterruptedError: Ctrl-C (KeyboardInterrupt) during the run.
        RuntimeError: a component failed (the partial summary has been written
            first); another run holds the output directory (run_lock); the
            output directory or its log cannot be written (e.g. disk full).
    """
    with contextlib.ExitStack() as held:
        try:
            os.makedirs(config.output_dir, exist_ok=True)
            held.enter_context(output_dir_lock(config.output_dir))
        except OSError as error:
            raise RuntimeError(_cannot_write(config.output_dir, error)) from error
        return _run_and_summarize(config, preamble)


def run_dag(pipeline: Pipeline) -> None:
    """Runs every component with LocalDagRunner (the Beam ones on the configured runner)."""
    LocalDagRunner().run(pipeline)


def _run_and_summarize(config: PipelineConfig, preamble: str) -> run_summary.RunSummary:
    log_path = os.path.join(config.output_dir, "logs", time.strftime("run-%Y%m%d-%H%M%S.log"))
    failure: BaseException | None = None
    with contextlib.ExitStack() as captured:
        try:
            os.makedirs(os.path.dirname(log_path), exist_ok=True)
            with open(log_path, "a") as log:
                log.write(preamble)
            view = captured.enter_context(captured_output(log_path, config.runner.verbose))
        except OSError as error:
            raise RuntimeError(_cannot_write(config.output_dir, error)) from error
        view.print(f"pipeline {config.runner.pipeline_name}, profile {config.profile}")
        view.print(f"full log: {log_path}")
        check_inputs(config)  # TFDS's warnings about the data dir go to the log too
        pipeline = create_pipeline(
            config,
            metadata_connection_config=metadata.sqlite_metadata_connection_config(
                config.metadata_path
            ),
        )
        try:
            run_dag(pipeline)
        except KeyboardInterrupt:
            logging.warning("interrupted (KeyboardInterrupt)")
            raise RunInterruptedError(_interrupted_message(view, log_path)) from None
        except Exception as error:  # reported below, after the summary is written
            logging.exception("pipeline run failed")
            failure = error
        failed = _failure_message(config.output_dir, failure, log_path) if failure else ""
        try:
            summary = run_summary.summarize_latest_run(
                config.metadata_path, config.runner.pipeline_name, config.profile
            )
            summary.log_file = log_path
            summary.report = _write_report(config, summary, view)
            _replace_file(os.path.join(config.output_dir, LATEST_RUN_FILE), summary.to_json())
        except (OSError, LookupError) as error:  # e.g. a full disk: say so, with the failure
            if failure is not None and _is_disk_full(failure):
                raise RuntimeError(failed) from error  # already says the disk is full
            problem = (
                _cannot_write(config.output_dir, error) if isinstance(error, OSError) else error
            )
            raise RuntimeError("; ".join(filter(None, [failed, str(problem)]))) from error
    if failure is not None:
        raise RuntimeError(failed) from failure
    if view.log_error is not None:
        raise RuntimeError(
            f"the run completed but its log could not be written ({view.log_error.strerror}): "
            f"{log_path} is incomplete; free space under {config.output_dir}"
        )
    return summary


def _interrupted_message(view: ProgressView, log_path: str) -> str:
    # In the order they finished (the view records them as they do).
    completed = (
        f"{', '.join(view.seconds)} completed" if view.seconds else "no component had completed"
    )
    return (
        f"{completed}; run the same command again to resume (completed components are "
        f"reused, a Trainer resumes at its last finished epoch). Full log: {log_path}"
    )


def _replace_file(path: str, text: str) -> None:
    """Writes `path` whole or not at all: a full disk keeps the previous run's summary."""
    partial = f"{path}.partial-{os.getpid()}"
    try:
        with open(partial, "w") as f:
            f.write(text)
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)


def _failure_message(output_dir: str, failure: BaseException, log_path: str) -> str:
    """What failed, led by the cause a user can act on when the disk filled up."""
    message = f"the pipeline failed: {failure}. Full log: {log_path}"
    if not _is_disk_full(failure):
        return message
    return (
        f"the output directory {output_dir} ran out of space during the run (No space left "
        f"on device). Free space there or choose another --output-dir, then run the same "
        f"command again: completed components are reused. Details: {message}"
    )


def _is_disk_full(error: BaseException | None) -> bool:
    """ENOSPC anywhere in the exception chain, or as sqlite and TensorFlow word it."""
    while error is not None:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if any(words in str(error) for words in ("No space left on device", "disk is full")):
            return True
        error = error.__cause__ or error.__context__
    return False


def _cannot_write(output_dir: str, error: OSError) -> str:
    """What went wrong writing the output directory, with the fix for that cause only."""
    fixes = {
        errno.ENOSPC: "free space there or choose another --output-dir",
        errno.EDQUOT: "free space there (your quota is used up) or choose another --output-dir",
        errno.EACCES: "make it writable for you or choose another --output-dir",
        errno.EPERM: "make it writable for you or choose another --output-dir",
        errno.EROFS: "it is on a read-only file system: choose another --output-dir",
    }
    fix = fixes.get(error.errno, "choose an --output-dir where a directory can be created")
    return (
        f"cannot write to the output directory {output_dir}: {error.strerror or error} "
        f"({error.filename or output_dir}); {fix}"
    )


def _write_report(
    config: PipelineConfig, summary: run_summary.RunSummary, view: ProgressView
) -> str | None:
    """The run's HTML report, blessed or not. A report that fails costs the run nothing:
    the error goes to the log and the summary has no report path."""
    started = time.monotonic()
    view.print("▶ report")
    try:
        report.record_run(config.output_dir, dataclasses.asdict(summary), config)
        path = report.write_report(config.output_dir, summary.run_id)
    except Exception as error:  # noqa: BLE001 - the model is trained and pushed already
        logging.exception("the run report failed")
        view.print(f"✘ report: {error} (details in the full log)")
        return None
    view.print(f"✔ report ({time.monotonic() - started:.1f} s)")
    return path
