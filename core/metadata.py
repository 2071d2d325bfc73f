"""The history of every trained model, read from (and promotions written to) ML Metadata.

Everything comes from TFX's own records: the Trainer's `model` output, the
Evaluator's `evaluation`/`blessing` outputs and its inputs (`model`,
`baseline_model`), the Pusher's `pushed_model` output. A promotion or rollback
is recorded the same way a Pusher records a push: an Execution (of type
`ModelPromotion`, with who, when, why) whose input is the Model and whose
output is a PushedModel artifact. So one query shows pipeline pushes and
manual promotions side by side, and any MLMD tool can follow the lineage.

Artifacts are matched by the event keys TFX components use (`model`,
`blessing`, `pushed_model`, ...), not by execution type names, so the same
queries work whatever the orchestrator named its component types.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from ml_metadata import errors
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd

# Artifact type names: TFX's local runners use the short names; Kubeflow
# Pipelines v2 records TFX artifacts under their `tfx.` schema titles.
MODEL_TYPES = ("Model", "tfx.Model")
PUSHED_MODEL_TYPE = "PushedModel"
PROMOTION_TYPE = "ModelPromotion"
PIPELINE_CONTEXT_TYPES = ("pipeline", "system.Pipeline")
RUN_CONTEXT_TYPES = ("pipeline_run", "system.PipelineRun")

_GRPC_TIMEOUT_SECONDS = 10
_INPUT = (mlmd.Event.INPUT, mlmd.Event.DECLARED_INPUT)
_OUTPUT = (mlmd.Event.OUTPUT, mlmd.Event.DECLARED_OUTPUT)


class RegistryError(Exception):
    """A registry command cannot do what was asked; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    """Which MLMD to talk to: a local sqlite file, or a gRPC server (as in a Kubeflow cluster)."""

    sqlite_path: str | None = None
    host: str | None = None
    port: int = 8080

    def describe(self) -> str:
        return f"{self.host}:{self.port}" if self.host else str(self.sqlite_path)


def connect(target: Target) -> metadata_store.MetadataStore:
    """Opens the store; a missing sqlite file is an error (nothing was run there)."""
    if target.host:
        config = mlmd.MetadataStoreClientConfig(
            host=target.host, port=target.port, client_timeout_sec=_GRPC_TIMEOUT_SECONDS
        )
        store = metadata_store.MetadataStore(config)
        try:
            store.get_context_types()  # the client connects lazily: fail here, clearly
        except errors.StatusError as error:
            raise RegistryError(
                f"cannot reach ML Metadata at {target.describe()} ({type(error).__name__}): "
                "check --mlmd-host/--mlmd-port, e.g. `kubectl port-forward -n kubeflow "
                "svc/metadata-grpc-service 8080:8080` and --mlmd-host localhost"
            ) from error
        return store
    if not target.sqlite_path or not os.path.exists(target.sqlite_path):
        raise RegistryError(
            f"no ML Metadata store at {target.sqlite_path}: run the pipeline first, "
            "or point --output-dir at the directory of a run"
        )
    config = mlmd.ConnectionConfig()
    config.sqlite.filename_uri = target.sqlite_path
    config.sqlite.connection_mode = mlmd.SqliteMetadataSourceConfig.READWRITE
    return metadata_store.MetadataStore(config)


@dataclass
class Publication:
    """One version directory this model was published as, by the Pusher or by a person."""

    version: int
    path: str
    action: str  # "push" (the pipeline's Pusher), "promote" or "rollback"
    time_ms: int
    who: str = ""
    reason: str = ""
    forced: bool = False


@dataclass
class ModelRecord:
    """One trained model (a Model artifact produced under the `model` key) and its history."""

    id: int
    uri: str
    created_ms: int
    pipeline: str | None = None
    run_id: str | None = None
    profile: str | None = None
    trainer_id: int | None = None
    evaluation_uri: str | None = None
    evaluator_id: int | None = None
    blessed: bool | None = None  # None: never evaluated
    baseline_id: int | None = None
    publications: list[Publication] = field(default_factory=list)

    @property
    def serving_model_dir(self) -> str:
        """The SavedModel inside the Model artifact (TFX's `Format-Serving`)."""
        return os.path.join(self.uri, "Format-Serving")


def list_models(store: metadata_store.MetadataStore) -> list[ModelRecord]:
    """Every trained model, oldest first."""
    models = [a for type_name in MODEL_TYPES for a in _artifacts_of_type(store, type_name)]
    if not models:
        return []
    events = store.get_events_by_artifact_ids([m.id for m in models])
    # A cached Trainer re-outputs the same artifact: the first execution trained it.
    produced = {
        e.artifact_id: e
        for e in sorted(events, key=lambda e: e.execution_id, reverse=True)
        if e.type in _OUTPUT and _key(e) == "model"
    }
    consumed: dict[int, list[mlmd.Event]] = {}
    for event in events:
        if event.type in _INPUT and _key(event) == "model":
            consumed.setdefault(event.artifact_id, []).append(event)
    records = []
    for model in sorted(models, key=lambda a: a.id):
        if model.id not in produced:
            continue  # e.g. a baseline copy made on Kubeflow, not a trained model
        record = ModelRecord(id=model.id, uri=model.uri, created_ms=model.create_time_since_epoch)
        _read_producer(store, record, produced[model.id].execution_id)
        _read_consumers(store, record, [e.execution_id for e in consumed.get(model.id, [])])
        records.append(record)
    return records


def get_model(store: metadata_store.MetadataStore, model_id: int) -> ModelRecord:
    for record in list_models(store):
        if record.id == model_id:
            return record
    raise RegistryError(
        f"no trained model with id {model_id}: `python -m pipeline models list` shows the ids"
    )


def latest_blessed_model(
    store: metadata_store.MetadataStore, pipeline_name: str
) -> ModelRecord | None:
    """The most recently trained blessed model of `pipeline_name` (the Resolver's choice)."""
    blessed = [r for r in list_models(store) if r.blessed and r.pipeline == pipeline_name]
    return max(blessed, key=lambda r: (r.created_ms, r.id), default=None)


def publication_history(
    store: metadata_store.MetadataStore, model_serving_dir: str
) -> list[tuple[ModelRecord, Publication]]:
    """Everything published into `model_serving_dir`, by version."""
    model_serving_dir = os.path.realpath(model_serving_dir)
    history = [
        (record, publication)
        for record in list_models(store)
        for publication in record.publications
        if os.path.realpath(os.path.dirname(publication.path)) == model_serving_dir
    ]
    return sorted(history, key=lambda item: item[1].version)


def record_publication(
    store: metadata_store.MetadataStore,
    model_id: int,
    action: str,
    version: int,
    path: str,
    reason: str,
    forced: bool,
) -> int:
    """Records a promotion/rollback as an Execution (Model in, PushedModel out); returns its id."""
    execution_type_id = store.put_execution_type(
        mlmd.ExecutionType(
            name=PROMOTION_TYPE,
            properties={
                "action": mlmd.STRING,
                "who": mlmd.STRING,
                "reason": mlmd.STRING,
                "forced": mlmd.INT,
                "promoted_at": mlmd.STRING,
            },
        ),
        can_add_fields=True,
    )
    pushed_type_id = store.put_artifact_type(
        mlmd.ArtifactType(name=PUSHED_MODEL_TYPE), can_add_fields=True
    )
    execution = mlmd.Execution(type_id=execution_type_id, last_known_state=mlmd.Execution.COMPLETE)
    execution.properties["action"].string_value = action
    execution.properties["who"].string_value = _current_user()
    execution.properties["reason"].string_value = reason
    execution.properties["forced"].int_value = int(forced)
    execution.properties["promoted_at"].string_value = time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime()
    )
    pushed = mlmd.Artifact(type_id=pushed_type_id, uri=path, state=mlmd.Artifact.LIVE)
    pushed.custom_properties["pushed"].int_value = 1
    pushed.custom_properties["pushed_destination"].string_value = path
    pushed.custom_properties["pushed_version"].string_value = str(version)
    (model,) = store.get_artifacts_by_id([model_id])
    execution_id, _, _ = store.put_execution(
        execution,
        artifact_and_events=[
            (model, _event(mlmd.Event.INPUT, "model")),
            (pushed, _event(mlmd.Event.OUTPUT, "pushed_model")),
        ],
        contexts=[],
    )
    return execution_id


def lineage(store: metadata_store.MetadataStore, record: ModelRecord) -> dict[str, Any]:
    """Where a model came from: dataset (name, version, splits), Transform graph, Trainer config.

    Follows the events back: Trainer inputs -> Transform -> its raw examples ->
    the ExampleGen execution's parameters.
    """
    (trainer,) = store.get_executions_by_id([record.trainer_id])
    trainer_inputs = _inputs(store, trainer.id)
    result: dict[str, Any] = {
        "trainer": {
            "execution_id": trainer.id,
            **{
                name: _properties(trainer).get(name)
                for name in ("run_fn", "custom_config", "train_args", "eval_args")
            },
        },
        "transform_graph": _uri(trainer_inputs.get("transform_graph")),
        "dataset": None,
    }
    transform = _producer(store, trainer_inputs.get("examples"))
    raw_examples = _inputs(store, transform.id).get("examples") if transform else None
    example_gen = _producer(store, raw_examples)
    if example_gen is not None:
        parameters = _properties(example_gen)
        splits = (parameters.get("input_config") or {}).get("splits", [])
        version = raw_examples.custom_properties.get("dataset_version")
        result["dataset"] = {
            "name": parameters.get("dataset_name"),
            "version": (version.string_value if version else "")
            or parameters.get("dataset_version")
            or "(the newest prepared in data_dir)",
            "data_dir": parameters.get("data_dir"),
            "splits": {s["name"]: s["pattern"] for s in splits},
            "examples": raw_examples.uri,
        }
    return result


def evaluator_parameters(store: metadata_store.MetadataStore, record: ModelRecord) -> dict:
    if record.evaluator_id is None:
        return {}
    (evaluator,) = store.get_executions_by_id([record.evaluator_id])
    return _properties(evaluator)


# ---- reading one model's history ----


def _read_producer(
    store: metadata_store.MetadataStore, record: ModelRecord, execution_id: int
) -> None:
    (trainer,) = store.get_executions_by_id([execution_id])
    record.trainer_id = trainer.id
    custom_config = _properties(trainer).get("custom_config") or {}
    record.profile = custom_config.get("profile")
    for context in store.get_contexts_by_execution(trainer.id):
        if context.type in PIPELINE_CONTEXT_TYPES:
            record.pipeline = context.name
        elif context.type in RUN_CONTEXT_TYPES:
            record.run_id = context.name


def _read_consumers(
    store: metadata_store.MetadataStore, record: ModelRecord, execution_ids: list[int]
) -> None:
    """Evaluations (newest decides `blessed`) and publications of this model."""
    if not execution_ids:
        return
    executions = {e.id: e for e in store.get_executions_by_id(execution_ids)}
    events = store.get_events_by_execution_ids(sorted(executions))
    artifacts = {a.id: a for a in store.get_artifacts_by_id({e.artifact_id for e in events})}
    by_execution: dict[int, dict[str, mlmd.Artifact]] = {}
    for event in events:
        direction = "out:" if event.type in _OUTPUT else "in:"
        by_execution.setdefault(event.execution_id, {})[direction + _key(event)] = artifacts[
            event.artifact_id
        ]
    for execution_id in sorted(by_execution):
        execution, io = executions[execution_id], by_execution[execution_id]
        if "out:blessing" in io:
            record.evaluator_id = execution_id
            record.blessed = _int(io["out:blessing"], "blessed") == 1
            record.evaluation_uri = io["out:evaluation"].uri if "out:evaluation" in io else None
            record.baseline_id = io["in:baseline_model"].id if "in:baseline_model" in io else None
        pushed = io.get("out:pushed_model")
        if pushed is not None and _int(pushed, "pushed") == 1:
            record.publications.append(_publication(execution, pushed))


def _publication(execution: mlmd.Execution, pushed: mlmd.Artifact) -> Publication:
    version = pushed.custom_properties["pushed_version"].string_value
    path = pushed.custom_properties["pushed_destination"].string_value
    publication = Publication(
        version=int(version) if version.isdigit() else -1,
        path=path,
        action="push",
        time_ms=execution.create_time_since_epoch,
    )
    if execution.type == PROMOTION_TYPE:
        publication.action = execution.properties["action"].string_value
        publication.who = execution.properties["who"].string_value
        publication.reason = execution.properties["reason"].string_value
        publication.forced = execution.properties["forced"].int_value == 1
    return publication


# ---- small MLMD helpers ----


def _artifacts_of_type(store: metadata_store.MetadataStore, type_name: str) -> list[mlmd.Artifact]:
    try:
        return store.get_artifacts_by_type(type_name)
    except errors.NotFoundError:
        return []


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return f"uid {os.getuid()}"


def _inputs(store: metadata_store.MetadataStore, execution_id: int) -> dict[str, mlmd.Artifact]:
    events = [e for e in store.get_events_by_execution_ids([execution_id]) if e.type in _INPUT]
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    return {_key(e): artifacts[e.artifact_id] for e in events}


def _producer(
    store: metadata_store.MetadataStore, artifact: mlmd.Artifact | None
) -> mlmd.Execution | None:
    """The first execution that output `artifact` (later ones are cache hits)."""
    if artifact is None:
        return None
    events = store.get_events_by_artifact_ids([artifact.id])
    ids = [e.execution_id for e in events if e.type in _OUTPUT]
    return store.get_executions_by_id([min(ids)])[0] if ids else None


def _properties(execution: mlmd.Execution) -> dict[str, Any]:
    """An execution's parameters, JSON ones decoded (TFX stores protos and dicts as JSON).

    TFX records a component's parameters as custom properties of its execution.
    """
    result: dict[str, Any] = {}
    for name, value in [*execution.properties.items(), *execution.custom_properties.items()]:
        if value.HasField("int_value"):
            result[name] = value.int_value
            continue
        try:
            result[name] = json.loads(value.string_value)
        except ValueError:
            result[name] = value.string_value
    return result


def _uri(artifact: mlmd.Artifact | None) -> str | None:
    return artifact.uri if artifact is not None else None


def _key(event: mlmd.Event) -> str:
    return next((step.key for step in event.path.steps if step.HasField("key")), "")


def _event(event_type: int, key: str) -> mlmd.Event:
    event = mlmd.Event(type=event_type)
    event.path.steps.add().key = key
    event.path.steps.add().index = 0
    return event


def _int(artifact: mlmd.Artifact, name: str) -> int | None:
    if name in artifact.custom_properties:
        return artifact.custom_properties[name].int_value
    return None
