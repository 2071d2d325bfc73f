"""What a local run did, read back from ML Metadata: statuses, times, counts, metrics, push.

The summary is built from TFX's own records (executions, artifacts and their
properties) rather than from side files, so it is true even for cached
components and for a run that failed half-way.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2

from core import artifact_properties as properties
from core.metadata.store import (
    Artifact,
    Target,
    artifacts_by_execution,
    connect,
    execution_state,
    int_property,
    node_name,
    pipeline_runs,
    string_property,
)
from pipeline import evaluation


@dataclass
class ComponentRun:
    component: str
    status: str
    seconds: float
    # When it started (Unix seconds): lets a benchmark attribute memory samples to it.
    started_at: float = 0.0


@dataclass
class RunSummary:
    """The machine-readable record of one run (written as latest_run.json)."""

    run_id: str
    profile: str
    components: list[ComponentRun] = field(default_factory=list)
    split_counts: dict[str, int] = field(default_factory=dict)
    # Where the examples came from: TFDS name, version, data dir and split strings.
    data_source: dict[str, Any] = field(default_factory=dict)
    # The label's class names in label order (the dataset's ClassLabel).
    class_names: list[str] = field(default_factory=list)
    # Per split, per reason: images ExampleGen skipped, and images it converted to RGB PNG.
    skipped_images: dict[str, dict[str, int]] = field(default_factory=dict)
    converted_images: dict[str, dict[str, int]] = field(default_factory=dict)
    # Per split, ExampleValidator's findings ("feature: what is wrong"); empty lists when clean.
    anomalies: dict[str, list[str]] = field(default_factory=dict)
    eval_metrics: dict[str, float] = field(default_factory=dict)
    blessed: bool = False
    # The failed thresholds, with values, when the model was not blessed.
    not_blessed_because: list[str] = field(default_factory=list)
    # Why the latest blessed model was no baseline (another task's); "" when it was, or none.
    baseline_skipped: str = ""
    # The serving check's verdict (components.serving_check.verdict.ServingCheckResult as a
    # dict: passed, failures, signatures, warm-up requests, memory); empty if it did not run.
    serving_check: dict[str, Any] = field(default_factory=dict)
    # What the version pushed replaced: "replaces version 6 (model 8, accuracy 0.983)...".
    replaced: str = ""
    pushed_model_dir: str | None = None
    pushed_version: int | None = None
    # Set instead of pushed_*: the blessed model already was the latest version, so
    # nothing was copied (e.g. a rerun whose Trainer came from cache).
    already_serving_version: int | None = None
    already_serving_dir: str | None = None
    # Components whose outputs were reused from an earlier run (TFX's cache).
    reused: list[str] = field(default_factory=list)
    log_file: str | None = None
    # The run's HTML report (pipeline/report), None if it could not be made.
    report: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False)

    def format(self) -> str:
        """A short human summary for the end of a run."""
        lines = [f"Run {self.run_id} (profile {self.profile})"]
        for c in self.components:
            lines.append(f"  {c.component:<32} {c.status:<9} {c.seconds:8.1f} s")
        if self.split_counts:
            counts = ", ".join(f"{k}={v}" for k, v in self.split_counts.items())
            lines.append(f"  examples: {counts}")
        if self.data_source:
            source = self.data_source
            lines.append(
                f"  data: TFDS {source['name']} {source['version']} in {source['data_dir']}"
            )
        if self.skipped_images:
            lines.append(f"  images skipped: {_per_split(self.skipped_images)}")
        if self.converted_images:
            lines.append(f"  images converted to RGB PNG: {_per_split(self.converted_images)}")
        if self.anomalies:
            found = {split: found for split, found in self.anomalies.items() if found}
            lines.append(
                "  anomalies: "
                + ("; ".join(f"{s}: {', '.join(f)}" for s, f in found.items()) or "none")
            )
        if self.class_names:
            lines.append(f"  classes: {', '.join(self.class_names)}")
        if self.eval_metrics:
            named = evaluation.with_class_names(self.eval_metrics, self.class_names)
            metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(named.items()))
            lines.append(f"  test metrics: {metrics}")
        if self.baseline_skipped:
            lines.append(f"  baseline: none for this model yet, {self.baseline_skipped}")
        lines.append(f"  blessed: {'yes' if self.blessed else 'no'}")
        lines += [f"    failed: {reason}" for reason in self.not_blessed_because]
        check = self.serving_check
        if check and not check.get("skipped"):
            lines.append(f"  serving check: {'passed' if check['passed'] else 'failed'}")
            lines += [f"    failed: {failure}" for failure in check["failures"]]
        if self.reused:
            lines.append(f"  reused from earlier runs (cached): {', '.join(self.reused)}")
        if self.pushed_model_dir:
            lines.append(f"  pushed: version {self.pushed_version} to {self.pushed_model_dir}")
            if self.replaced:
                lines.append(f"    {self.replaced}")
        elif self.already_serving_version is not None:
            lines.append(
                f"  pushed: nothing new, the model is already serving as version "
                f"{self.already_serving_version} ({self.already_serving_dir})"
            )
        elif self.blessed and check and not check.get("passed"):
            lines.append("  pushed: nothing (the model failed the serving check)")
        else:
            lines.append("  pushed: nothing (the model was not blessed)")
        if self.log_file:
            lines.append(f"  full log: {self.log_file}")
        if self.report:
            lines.append(f"  report: {self.report}")
        return "\n".join(lines)


def _per_split(counts: dict[str, dict[str, int]]) -> str:
    """{'train': {'truncated': 1}, 'eval': {}} -> 'train: truncated=1; eval: none'."""
    return "; ".join(
        f"{split}: " + (", ".join(f"{k}={v}" for k, v in reasons.items()) or "none")
        for split, reasons in counts.items()
    )


def summarize_latest_run(metadata_path: str, pipeline_name: str, profile: str) -> RunSummary:
    """Builds the summary of the newest run of `pipeline_name` recorded in the sqlite store.

    Args:
        metadata_path: the run's MLMD sqlite file (opened read-only).
        pipeline_name: the pipeline whose newest run is summarized.
        profile: the configuration profile the run used (recorded as is).

    Returns:
        The run's summary, also for cached components and a run that failed half-way.

    Raises:
        MetadataError: there is no store at `metadata_path`.
        LookupError: the store holds no run of `pipeline_name`.
    """
    store = connect(Target(sqlite_path=metadata_path, read_only=True))
    runs = pipeline_runs(store, pipeline_name)
    if not runs:
        raise LookupError(f"no run of pipeline {pipeline_name!r} in {metadata_path}")
    run = runs[-1]
    summary = RunSummary(run_id=run.name, profile=profile)

    executions = sorted(store.get_executions_by_context(run.id), key=lambda e: e.id)
    io = artifacts_by_execution(store, [e.id for e in executions])
    for execution in executions:
        component = node_name(store, execution, pipeline_name)
        summary.components.append(
            ComponentRun(
                component=component,
                status=execution_state(execution),
                seconds=round(
                    (execution.last_update_time_since_epoch - execution.create_time_since_epoch)
                    / 1000.0,
                    1,
                ),
                started_at=execution.create_time_since_epoch / 1000.0,
            )
        )
        cached = execution_state(execution) == "cached"
        if cached:
            summary.reused.append(component)
        _read_outputs(summary, io[execution.id].outputs, cached)
        if summary.pushed_model_dir and not cached and "model" in io[execution.id].inputs:
            if component == "Pusher":
                summary.replaced = _replaced(
                    store, io[execution.id].inputs["model"].id, summary.pushed_version or 0,
                    os.path.dirname(summary.pushed_model_dir),
                )  # fmt: skip
    return summary


def _replaced(store, model_id: int, version: int, model_serving_dir: str) -> str:
    """What the version just pushed replaces, and how the two models compare on the test split:
    "replaces version 6 (model 8, accuracy 0.983); this is model 9, accuracy 0.966"."""
    from core.metadata import models

    history = models.publication_history(store, model_serving_dir)
    before = [(r, p) for r, p in history if p.version < version]
    if not before:  # (or the versions below it were published by no run this store knows)
        return "the first version of this model" if version == 1 else ""
    record, publication = before[-1]
    pushed = next((r for r, p in history if p.version == version), None)
    if pushed is None:
        return f"replaces version {publication.version} (model {record.id})"
    earlier = sorted(p.version for r, p in history if r.id == model_id and p.version < version)
    again = (
        f"model {model_id} again (it was version {earlier[-1]})" if earlier else f"model {model_id}"
    )
    return (
        f"replaces version {publication.version} (model {record.id}, "
        f"{_accuracy_text(record)}); this is {again}, {_accuracy_text(pushed)}"
    )


def _accuracy_text(record) -> str:
    if not record.evaluation_uri:
        return "not evaluated"
    overall = evaluation.metrics_by_slice(record.evaluation_uri).get("overall", {})
    accuracy = next((overall[m] for m in evaluation.ACCURACIES if m in overall), None)
    return "accuracy unknown" if accuracy is None else f"accuracy {accuracy:.3f}"


def _read_outputs(summary: RunSummary, outputs: dict[str, Artifact], cached: bool) -> None:
    """Fills the summary from whichever well-known output artifacts this execution produced.

    A cached Pusher re-outputs an earlier run's PushedModel: that push is not
    this run's, so it reads as "already serving".
    """
    if (
        "examples" in outputs
        and string_property(outputs["examples"], properties.SKIPPED_IMAGES) is not None
    ):
        _read_ingestion(summary, outputs["examples"])
    if "anomalies" in outputs:
        summary.anomalies = read_anomalies(outputs["anomalies"])
    if "statistics" in outputs:
        summary.split_counts = _split_counts(outputs["statistics"])
    if "evaluation" in outputs:
        uri = outputs["evaluation"].uri
        summary.eval_metrics = evaluation.metrics_by_slice(uri).get("overall", {})
        summary.not_blessed_because = evaluation.failed_thresholds(uri)
    if "blessing" in outputs:
        summary.blessed = int_property(outputs["blessing"], properties.BLESSED) == 1
        summary.baseline_skipped = (
            string_property(outputs["blessing"], properties.BASELINE_SKIPPED) or ""
        )
    if "infra_blessing" in outputs:
        verdict = string_property(outputs["infra_blessing"], properties.SERVING_CHECK)
        summary.serving_check = json.loads(verdict) if verdict else {}
    pushed = outputs.get("pushed_model")
    if pushed is not None and int_property(pushed, properties.PUSHED) == 1:
        path = string_property(pushed, properties.PUSHED_DESTINATION)
        version = int_property(pushed, properties.PUSHED_VERSION)
        if cached:
            summary.already_serving_dir, summary.already_serving_version = path, version
        else:
            summary.pushed_model_dir, summary.pushed_version = path, version
    elif pushed is not None and int_property(pushed, properties.ALREADY_SERVING_VERSION):
        summary.already_serving_version = int_property(pushed, properties.ALREADY_SERVING_VERSION)
        summary.already_serving_dir = string_property(pushed, properties.ALREADY_SERVING_PATH)


def _read_ingestion(summary: RunSummary, examples: Artifact) -> None:
    """What TfdsExampleGen recorded on its Examples artifact (see its executor)."""

    def value(name: str) -> str:
        return string_property(examples, name) or ""

    summary.data_source = {
        "name": value(properties.TFDS_NAME),
        "version": value(properties.TFDS_VERSION),
        "data_dir": value(properties.TFDS_DATA_DIR),
        "splits": json.loads(value(properties.TFDS_SPLITS)),
    }
    summary.class_names = json.loads(value(properties.CLASS_NAMES) or "[]")
    summary.skipped_images = json.loads(value(properties.SKIPPED_IMAGES))
    summary.converted_images = json.loads(value(properties.CONVERTED_IMAGES))


def read_anomalies(artifact: Artifact) -> dict[str, list[str]]:
    """ExampleValidator's per-split SchemaDiff.pb, as 'feature: short description' lines.

    Args:
        artifact: the ExampleValidator's `anomalies` output, as recorded in MLMD.

    Returns:
        {split: ["feature: what is wrong", ...]}; an empty list for a clean split.
    """
    found = {}
    for split in json.loads(string_property(artifact, properties.SPLIT_NAMES) or "[]"):
        path = os.path.join(artifact.uri, f"Split-{split}", "SchemaDiff.pb")
        with tf.io.gfile.GFile(path, "rb") as f:
            anomalies = anomalies_pb2.Anomalies.FromString(f.read())
        found[split] = [
            f"{feature}: " + " / ".join(reason.short_description for reason in info.reason)
            for feature, info in sorted(anomalies.anomaly_info.items())
        ]
        if anomalies.HasField("dataset_anomaly_info"):
            found[split].append(f"dataset: {anomalies.dataset_anomaly_info.short_description}")
    return found


def _split_counts(statistics: Artifact) -> dict[str, int]:
    split_names = json.loads(string_property(statistics, properties.SPLIT_NAMES) or "[]")
    counts = {}
    for split in split_names:
        path = os.path.join(statistics.uri, f"Split-{split}", "FeatureStats.pb")
        counts[split] = int(tfdv.load_stats_binary(path).datasets[0].num_examples)
    return counts
