"""Reports of local runs: found by run id under the output directory, artifacts through MLMD.

Each run leaves `reports/<run id>.json` (its summary and configuration) and
`reports/<run id>.html` (the report). The JSON is what `python -m pipeline
report RUN_ID` rebuilds the page from, so an older run's report can be made
again after the code improves.
"""

from __future__ import annotations

import json
import os
from typing import Any

from core.config import PipelineConfig
from core.metadata import models, store
from pipeline.report import content as content_lib
from pipeline.report import page

REPORTS_DIR = "reports"


class ReportError(Exception):
    """No report can be made for what was asked; the message says why and what to do."""


def record_run(output_dir: str, summary: dict[str, Any], config: PipelineConfig) -> str:
    """Keeps the run's summary and configuration for rebuilding its report; returns the path."""
    path = _path(output_dir, summary["run_id"], ".json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"summary": summary, "config": config.to_dict()}, f, indent=2)
    return path


def write_report(output_dir: str, run_id: str | None = None) -> str:
    """Builds the HTML report of `run_id` (default: the newest recorded run); returns its path.

    Raises:
        ReportError: no run with that id was recorded under `output_dir`.
    """
    record = _load_record(output_dir, run_id)
    summary = record["summary"]
    config = PipelineConfig.from_dict(record["config"])
    trainer_cached = any(
        c["component"] == "Trainer" and c["status"] == "cached" for c in summary["components"]
    )
    artifacts = find_artifacts(config.metadata_path, summary["run_id"], trainer_cached)
    html = page.render(content_lib.gather(config, summary, artifacts))
    path = _path(output_dir, summary["run_id"], ".html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)
    return path


def find_artifacts(
    metadata_path: str, run_id: str, trainer_cached: bool = False
) -> content_lib.RunArtifacts:
    """The model, evaluation and raw examples of `run_id`, through the model registry's queries.

    A run whose Trainer was cached re-used a model trained by an earlier run:
    the report then shows the newest trained model (the one the cache returned
    when nothing changed since). A run that stopped before training has none.
    """
    db = store.connect(store.Target(sqlite_path=metadata_path))
    records = models.list_models(db)
    record = next((r for r in records if r.run_id == run_id), None)
    if record is None and trainer_cached and records:
        record = max(records, key=lambda r: (r.created_ms, r.id))
    if record is None:
        return content_lib.RunArtifacts()
    dataset = models.lineage(db, record).get("dataset") or {}
    return content_lib.RunArtifacts(
        model_uri=record.uri,
        evaluation_uri=record.evaluation_uri,
        examples_uri=dataset.get("examples"),
        baseline=f"model {record.baseline_id}" if record.baseline_id else None,
    )


def _load_record(output_dir: str, run_id: str | None) -> dict[str, Any]:
    folder = os.path.join(output_dir, REPORTS_DIR)
    # Oldest first; run ids are timestamps, so their file names sort in time order.
    recorded = (
        sorted(f[: -len(".json")] for f in os.listdir(folder) if f.endswith(".json"))
        if os.path.isdir(folder)
        else []
    )
    if not recorded:
        raise ReportError(
            f"no run recorded in {folder}: run the pipeline first "
            "(`python -m pipeline run`), or point --output-dir at a run's output directory"
        )
    path = _path(output_dir, run_id or recorded[-1], ".json")
    if not os.path.exists(path):
        raise ReportError(
            f"no run {run_id!r} recorded in {folder}; recorded runs: {', '.join(recorded)}"
        )
    with open(path) as f:
        return json.load(f)


def _path(output_dir: str, run_id: str, suffix: str) -> str:
    """Run ids are timestamps ('2026-11-30T01:00:00.123456'): ':' is awkward in file names."""
    return os.path.join(output_dir, REPORTS_DIR, run_id.replace(":", "-") + suffix)
