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
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tensorflow_metadata.proto.v0 import anomalies_pb2

from core import artifact_properties as properties
from pipeline import evaluation

_OUTPUT_EVENTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
_STATE_NAMES = {
    metadata_store_pb2.Execution.COMPLETE: "complete",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.FAILED: "failed",
    metadata_store_pb2.Execution.RUNNING: "running",
    metadata_store_pb2.Execution.CANCELED: "canceled",
}


@dataclass
class ComponentRun:
    component: str
    status: str
    seconds: float


@dataclass
class RunSummary:
    """The machine-readable record of one run (written as latest_run.json)."""

    run_id: str
    profile: str
    components: list[ComponentRun] = field(default_factory=list)
    split_counts: dict[str, int] = field(default_factory=dict)
    # Where the examples came from: TFDS name, version, data dir and split strings.
    data_source: dict[str, Any] = field(default_factory=dict)
    # Per split, per reason: images ExampleGen skipped, and images it converted to RGB JPEG.
    skipped_images: dict[str, dict[str, int]] = field(default_factory=dict)
    converted_images: dict[str, dict[str, int]] = field(default_factory=dict)
    # Per split, ExampleValidator's findings ("feature: what is wrong"); empty lists when clean.
    anomalies: dict[str, list[str]] = field(default_factory=dict)
    eval_metrics: dict[str, float] = field(default_factory=dict)
    blessed: bool = False
    # The failed thresholds, with values, when the model was not blessed.
    not_blessed_because: list[str] = field(default_factory=list)
    pushed_model_dir: str | None = None
    pushed_version: int | None = None
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
            lines.append(f"  images converted to RGB JPEG: {_per_split(self.converted_images)}")
        if self.anomalies:
            found = {split: found for split, found in self.anomalies.items() if found}
            lines.append(
                "  anomalies: "
                + ("; ".join(f"{s}: {', '.join(f)}" for s, f in found.items()) or "none")
            )
        if self.eval_metrics:
            metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(self.eval_metrics.items()))
            lines.append(f"  test metrics: {metrics}")
        lines.append(f"  blessed: {'yes' if self.blessed else 'no'}")
        lines += [f"    failed: {reason}" for reason in self.not_blessed_because]
        if self.pushed_model_dir:
            lines.append(f"  pushed: version {self.pushed_version} to {self.pushed_model_dir}")
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


def open_store(metadata_path: str) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def summarize_latest_run(metadata_path: str, pipeline_name: str, profile: str) -> RunSummary:
    """Builds the summary of the newest run of `pipeline_name` recorded in the sqlite store."""
    store = open_store(metadata_path)
    pipeline_context = store.get_context_by_type_and_name("pipeline", pipeline_name)
    if pipeline_context is None:
        raise LookupError(f"no run of pipeline {pipeline_name!r} in {metadata_path}")
    pipeline_executions = {e.id for e in store.get_executions_by_context(pipeline_context.id)}
    runs = [
        c
        for c in store.get_contexts_by_type("pipeline_run")
        if any(e.id in pipeline_executions for e in store.get_executions_by_context(c.id))
    ]
    if not runs:
        raise LookupError(f"no run of pipeline {pipeline_name!r} in {metadata_path}")
    run = max(runs, key=lambda c: (c.create_time_since_epoch, c.id))
    summary = RunSummary(run_id=run.name, profile=profile)

    executions = sorted(store.get_executions_by_context(run.id), key=lambda e: e.id)
    outputs = _outputs_by_execution(store, [e.id for e in executions])
    for execution in executions:
        component = _node_id(store, execution.id, pipeline_name)
        summary.components.append(
            ComponentRun(
                component=component,
                status=_STATE_NAMES.get(execution.last_known_state, "unknown"),
                seconds=round(
                    (execution.last_update_time_since_epoch - execution.create_time_since_epoch)
                    / 1000.0,
                    1,
                ),
            )
        )
        _read_outputs(summary, outputs.get(execution.id, {}))
    return summary


def _outputs_by_execution(
    store: metadata_store.MetadataStore, execution_ids: list[int]
) -> dict[int, dict[str, metadata_store_pb2.Artifact]]:
    events = [
        e for e in store.get_events_by_execution_ids(execution_ids) if e.type in _OUTPUT_EVENTS
    ]
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    result: dict[int, dict[str, metadata_store_pb2.Artifact]] = {}
    for event in events:
        key = event.path.steps[0].key if event.path.steps else str(event.artifact_id)
        result.setdefault(event.execution_id, {})[key] = artifacts[event.artifact_id]
    return result


def _node_id(store: metadata_store.MetadataStore, execution_id: int, pipeline_name: str) -> str:
    """Node contexts are named '<pipeline name>.<node id>'."""
    prefix = pipeline_name + "."
    for context in store.get_contexts_by_execution(execution_id):
        if context.type == "node" and context.name.startswith(prefix):
            return context.name[len(prefix) :]
    return str(execution_id)


def _read_outputs(summary: RunSummary, outputs: dict[str, metadata_store_pb2.Artifact]) -> None:
    """Fills the summary from whichever well-known output artifacts this execution produced."""
    if "examples" in outputs and properties.SKIPPED_IMAGES in (
        outputs["examples"].custom_properties
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
        summary.blessed = _int_property(outputs["blessing"], "blessed") == 1
    if "pushed_model" in outputs and _int_property(outputs["pushed_model"], "pushed") == 1:
        pushed = outputs["pushed_model"].custom_properties
        summary.pushed_model_dir = pushed["pushed_destination"].string_value
        summary.pushed_version = int(pushed["pushed_version"].string_value)


def _int_property(artifact: metadata_store_pb2.Artifact, name: str) -> int | None:
    if name not in artifact.custom_properties:
        return None
    return artifact.custom_properties[name].int_value


def _read_ingestion(summary: RunSummary, examples: metadata_store_pb2.Artifact) -> None:
    """What TfdsExampleGen recorded on its Examples artifact (see its executor)."""

    def value(name: str) -> str:
        return examples.custom_properties[name].string_value

    summary.data_source = {
        "name": value(properties.TFDS_NAME),
        "version": value(properties.TFDS_VERSION),
        "data_dir": value(properties.TFDS_DATA_DIR),
        "splits": json.loads(value(properties.TFDS_SPLITS)),
    }
    summary.skipped_images = json.loads(value(properties.SKIPPED_IMAGES))
    summary.converted_images = json.loads(value(properties.CONVERTED_IMAGES))


def read_anomalies(artifact: metadata_store_pb2.Artifact) -> dict[str, list[str]]:
    """ExampleValidator's per-split SchemaDiff.pb, as 'feature: short description' lines."""
    found = {}
    for split in json.loads(artifact.properties["split_names"].string_value or "[]"):
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


def _split_counts(statistics: metadata_store_pb2.Artifact) -> dict[str, int]:
    split_names = json.loads(statistics.properties["split_names"].string_value or "[]")
    counts = {}
    for split in split_names:
        path = os.path.join(statistics.uri, f"Split-{split}", "FeatureStats.pb")
        counts[split] = int(tfdv.load_stats_binary(path).datasets[0].num_examples)
    return counts
