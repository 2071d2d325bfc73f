"""`python -m pipeline models list|show|promote|rollback`: the registry for people.

Each command reads (and promote/rollback record into) ML Metadata, so what it
shows is what the pipeline and earlier promotions actually did.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict
from typing import Any

from core import serving_layout as serving
from core.metadata import models
from core.metadata.models import ModelRecord, Publication, RegistryError, Scope
from core.metadata.store import MetadataStore
from pipeline import evaluation

# The accuracy column shows whichever accuracy the model was evaluated with.
ACCURACIES = evaluation.ACCURACIES
# "rolled back" read as withdrawn: a rollback publishes an earlier model again, as a new version.
_ACTION_WORDS = {"push": "pushed", "promote": "promoted", "rollback": "republished by rollback"}
# The action of a promotion that published nothing: the model is already the latest version.
ALREADY_SERVING = "already serving"


def model_summary(record: ModelRecord) -> dict[str, Any]:
    """One model as plain data (`list --json`), with its overall test metrics.

    Args:
        record: a model from `core.metadata.models.list_models`.

    Returns:
        The record's fields plus `trained_at` (ISO 8601, UTC) and `metrics`
        ({} when the model was never evaluated).
    """
    data = asdict(record)
    data["trained_at"] = _iso(record.created_ms)
    data["metrics"] = _overall_metrics(record)
    return data


def to_json(data: Any) -> str:
    """JSON for machines: undefined metrics (NaN, e.g. a slice without positives) become null.

    Args:
        data: plain data (dicts, lists, numbers, strings), e.g. from `model_summary` or `show`.

    Returns:
        Indented JSON text.
    """
    return json.dumps(_without_nan(data), indent=2)


def _without_nan(data: Any) -> Any:
    if isinstance(data, float) and math.isnan(data):
        return None
    if isinstance(data, dict):
        return {k: _without_nan(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_without_nan(v) for v in data]
    return data


def format_table(records: list[ModelRecord]) -> str:
    """A terminal table: one line per model, newest last.

    Args:
        records: the models, as `list_models` returns them (oldest first).

    Returns:
        Aligned columns with a header; "(no trained model yet)" under it when empty. The
        version each serving directory serves now (its highest) is marked "serving".
    """
    header = [
        "ID", "RUN", "TRAINED (UTC)", "DATASET", "CLASSES", "ACCURACY", "AUC", "BLESSED",
        "VERSIONS",
    ]  # fmt: skip
    serving = _serving_now(records)
    rows = [header]
    for record in records:
        metrics = _overall_metrics(record)
        accuracy = next((metrics[m] for m in ACCURACIES if m in metrics), None)
        rows.append(
            [
                str(record.id),
                record.run_id or "-",
                _iso(record.created_ms, seconds=False),
                record.dataset or "-",
                _classes(record.class_names),
                "-" if accuracy is None else f"{accuracy:.4f}",
                f"{metrics['auc']:.4f}" if "auc" in metrics else "-",
                _blessed_word(record.blessed),
                _describe_versions(record.publications, serving)
                + (" (removed)" if record.removed else ""),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    if len(rows) == 1:
        lines.append("(no trained model yet)")
    return "\n".join(lines)


def _serving_now(records: list[ModelRecord]) -> set[str]:
    """The path of the version each serving directory serves: its highest."""
    highest: dict[str, Publication] = {}
    for publication in (p for record in records for p in record.publications):
        folder = os.path.dirname(publication.path)
        if folder not in highest or publication.version > highest[folder].version:
            highest[folder] = publication
    return {publication.path for publication in highest.values()}


def _classes(names: list[str]) -> str:
    text = ", ".join(names) or "-"
    return text if len(text) <= 30 else text[:27] + "..."


def show(db: MetadataStore, model_id: int, scope: Scope | None = None) -> dict[str, Any]:
    """Everything known about one model: metrics per slice, thresholds, verdict, lineage.

    Args:
        db: a connected store.
        model_id: the Model artifact's id, as `models list` shows it.
        scope: the namespace and pipeline the model must belong to.

    Returns:
        `model_summary` plus `thresholds`, `failed_thresholds`, `metrics_by_slice`
        and `lineage` (see `core.metadata.models.lineage`).

    Raises:
        RegistryError: no trained model has that id, or it is outside `scope`.
    """
    record = models.get_model(db, model_id, scope)
    details = model_summary(record)
    parameters = models.evaluator_parameters(db, record)
    details["thresholds"] = evaluation.describe_thresholds(parameters.get("eval_config") or {})
    details["failed_thresholds"] = (
        evaluation.failed_thresholds(record.evaluation_uri) if record.evaluation_uri else []
    )
    details["metrics_by_slice"] = (
        evaluation.metrics_by_slice(record.evaluation_uri) if record.evaluation_uri else {}
    )
    details["lineage"] = models.lineage(db, record)
    return details


def format_details(details: dict[str, Any]) -> str:
    """`show`'s result for a terminal.

    Args:
        details: what `show` returned.

    Returns:
        A few indented lines: verdict, thresholds, metrics, publications, lineage.
    """
    lines = [
        f"model {details['id']}  ({details['uri']})",
        f"  pipeline {details['pipeline']}, run {details['run_id']}, "
        f"profile {details['profile'] or '-'}, trained {details['trained_at']}",
        f"  dataset {details.get('dataset') or '-'}, classes "
        f"{', '.join(details.get('class_names') or []) or '-'}",
        f"  {_blessed_word(details['blessed'])}"
        + (f" (baseline: model {details['baseline_id']})" if details["baseline_id"] else ""),
    ]
    lines += [f"    failed: {reason}" for reason in details["failed_thresholds"]]
    lines.append("  thresholds: " + ("; ".join(details["thresholds"]) or "-"))
    names = details.get("class_names") or []
    for slice_name, metrics in details["metrics_by_slice"].items():
        defined = _defined_metrics(slice_name, evaluation.with_class_names(metrics, names))
        values = ", ".join(f"{k}={v:.4g}" for k, v in sorted(defined.items()))
        lines.append(f"  metrics [{evaluation.slice_label(slice_name, names)}]: {values}")
    for p in details["publications"]:
        lines.append(f"  {_describe_publication(Publication(**p))}")
    lineage = details["lineage"]
    dataset = lineage["dataset"]
    if dataset:
        splits = ", ".join(f"{k}={v}" for k, v in dataset["splits"].items())
        lines.append(f"  dataset: {dataset['name']} {dataset['version']} ({splits})")
        lines.append(f"    data dir: {dataset['data_dir']}; examples: {dataset['examples']}")
    lines.append(f"  transform graph: {lineage['transform_graph']}")
    trainer = lineage["trainer"]
    lines.append(f"  trainer: {trainer['run_fn']} (execution {trainer['execution_id']})")
    lines.append(f"    config: {json.dumps(trainer['custom_config'], sort_keys=True)}")
    return "\n".join(lines)


def promote(
    db: MetadataStore,
    model_id: int,
    model_serving_dir: str,
    reason: str = "",
    force: bool = False,
    scope: Scope | None = None,
) -> Publication:
    """Publishes a blessed model as the next version and records who, when and why.

    Args:
        db: a store opened read-write.
        model_id: the Model artifact's id, as `models list` shows it.
        model_serving_dir: `<serving dir>/<model name>`; the version goes below it.
        reason: why, recorded in ML Metadata (required with `force`).
        force: publish even though the model is not blessed, or is already the
            latest version.
        scope: the namespace and pipeline the model must belong to.

    Returns:
        The new publication (its version and path). A model that is already the
        latest version (same content) is not published again unless `force`: the
        Publication then has the action ALREADY_SERVING and the existing version,
        and nothing is recorded.

    Raises:
        RegistryError: no trained model has that id (in `scope`), the model is not
            blessed and `force` is not set, or `force` is set without a reason.
    """
    record = models.get_model(db, model_id, scope)
    if record.removed:
        raise RegistryError(
            f"model {model_id} was removed by `gc` (its files are gone; its record stays): "
            "promote a model that was kept (`models list` marks removed ones), or train it again"
        )
    already = serving.serving_version_of(record.serving_model_dir, model_serving_dir)
    # --force overrides one of two refusals; for a blessed model not serving it changes nothing.
    force = force and (not record.blessed or already is not None)
    if force and not reason.strip():
        what = (
            "a model that is already serving is published again"
            if record.blessed
            else "an unblessed model goes to serving"
        )
        raise RegistryError(f"--force needs --reason: say why {what}")
    if not record.blessed and not force:
        raise RegistryError(
            f"model {model_id} is {_blessed_word(record.blessed)}: promote only blessed models, "
            "or add --force --reason '...' to override"
        )
    if already is not None and not force:
        version, path = already
        return Publication(version, path, ALREADY_SERVING, int(time.time() * 1000))
    return _publish(db, record, model_serving_dir, "promote", reason, force)


def rollback(
    db: MetadataStore, model_serving_dir: str, reason: str = "", scope: Scope | None = None
) -> tuple[ModelRecord, Publication]:
    """Re-publishes the model that was served before the current one, as a new version.

    "Current" is the model of the highest recorded version in `model_serving_dir`;
    the previous one is the newest earlier version holding a different model.
    Rolling back twice therefore returns to where it started.

    Args:
        db: a store opened read-write.
        model_serving_dir: `<serving dir>/<model name>`; the version goes below it.
        reason: why, recorded in ML Metadata (default: which model and version it replaces).
        scope: only the publications of this namespace's and pipeline's models count.

    Returns:
        (the model published again, its new publication).

    Raises:
        RegistryError: nothing was published to `model_serving_dir`, or only one model was.
    """
    history = models.publication_history(db, model_serving_dir, scope)
    if not history:
        raise RegistryError(f"nothing was ever published to {model_serving_dir}")
    current, current_publication = history[-1]
    previous = next((r for r, _ in reversed(history) if r.id != current.id), None)
    if previous is None:
        raise RegistryError(
            f"only model {current.id} was ever published to {model_serving_dir}: "
            "there is no previous model to roll back to"
        )
    reason = reason or (
        f"roll back from model {current.id} (version {current_publication.version})"
    )
    return previous, _publish(db, previous, model_serving_dir, "rollback", reason, False)


def _publish(
    db: MetadataStore,
    record: ModelRecord,
    model_serving_dir: str,
    action: str,
    reason: str,
    forced: bool,
) -> Publication:
    version, path = serving.publish_version(
        record.serving_model_dir,
        model_serving_dir,
        claim=models.version_claims(db, model_serving_dir),
    )
    models.record_publication(db, record.id, action, version, path, reason, forced)
    return next(
        p for p in models.get_model(db, record.id).publications if os.path.samefile(p.path, path)
    )


def _defined_metrics(slice_name: str, metrics: dict[str, float]) -> dict[str, float]:
    """Only the metrics that mean something: no NaN (e.g. recall with no positives), and no
    area under a curve in a one-class slice (`label=0` holds one class: no curve)."""
    one_class = slice_name.startswith("label=")
    return {
        name: value
        for name, value in metrics.items()
        if not math.isnan(value) and not (one_class and name.split("/")[0] in ("auc", "auc_pr"))
    }


def _overall_metrics(record: ModelRecord) -> dict[str, float]:
    if not record.evaluation_uri:
        return {}
    return evaluation.metrics_by_slice(record.evaluation_uri).get("overall", {})


def _describe_versions(publications: list[Publication], serving: set[str] = frozenset()) -> str:
    """'1 (pushed) in /srv/cats; 1 (promoted), 3 (republished by rollback, serving) in /m/cats'."""
    by_directory: dict[str, list[str]] = {}
    for p in publications:
        action = _ACTION_WORDS.get(p.action, p.action)
        words = f"{p.version} ({action}{', serving' if p.path in serving else ''})"
        by_directory.setdefault(os.path.dirname(p.path), []).append(words)
    return "; ".join(f"{', '.join(v)} in {d}" for d, v in by_directory.items()) or "-"


def _describe_publication(p: Publication) -> str:
    text = f"version {p.version} {_ACTION_WORDS.get(p.action, p.action)} {_iso(p.time_ms)}"
    if p.who:
        text += f" by {p.who}"
    if p.forced:
        text += " (forced)"
    if p.reason:
        text += f": {p.reason}"
    return f"{text} -> {p.path}"


def _blessed_word(blessed: bool | None) -> str:
    return {True: "blessed", False: "not blessed", None: "not evaluated"}[blessed]


def _iso(ms: int, seconds: bool = True) -> str:
    fmt = "%Y-%m-%dT%H:%M:%SZ" if seconds else "%Y-%m-%d %H:%M"
    return time.strftime(fmt, time.gmtime(ms / 1000))
