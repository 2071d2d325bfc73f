"""Runs the pipeline with TFX's LocalDagRunner, MLMD in sqlite, and writes the run summary."""

from __future__ import annotations

import logging
import os
import time

from tfx.orchestration import metadata
from tfx.orchestration.local.local_dag_runner import LocalDagRunner

from core.config import PipelineConfig
from pipeline import run_summary
from pipeline.create import create_pipeline
from pipeline.preflight import check_inputs
from pipeline.run_logging import captured_output

LATEST_RUN_FILE = "latest_run.json"


def run_locally(config: PipelineConfig) -> run_summary.RunSummary:
    """Checks inputs, runs every component, writes `<output dir>/latest_run.json`.

    Args:
        config: a validated configuration.

    Returns:
        The run's summary, read back from ML Metadata.

    Raises:
        PreflightError: before anything runs, when data or weights are missing.
        RuntimeError: a component failed; the partial summary has been written first.
    """
    check_inputs(config)
    os.makedirs(config.output_dir, exist_ok=True)
    log_path = os.path.join(config.output_dir, "logs", time.strftime("run-%Y%m%d-%H%M%S.log"))
    pipeline = create_pipeline(
        config,
        metadata_connection_config=metadata.sqlite_metadata_connection_config(config.metadata_path),
    )
    failure: BaseException | None = None
    with captured_output(log_path, verbose=config.runner.verbose) as view:
        view.print(f"pipeline {config.runner.pipeline_name}, profile {config.profile}")
        view.print(f"full log: {log_path}")
        try:
            LocalDagRunner().run(pipeline)
        except Exception as error:  # reported below, after the summary is written
            logging.exception("pipeline run failed")
            failure = error
    summary = run_summary.summarize_latest_run(
        config.metadata_path, config.runner.pipeline_name, config.profile
    )
    summary.log_file = log_path
    with open(os.path.join(config.output_dir, LATEST_RUN_FILE), "w") as f:
        f.write(summary.to_json())
    if failure is not None:
        raise RuntimeError(f"the pipeline failed: {failure}. Full log: {log_path}") from failure
    return summary
