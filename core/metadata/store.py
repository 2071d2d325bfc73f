"""Connecting to ML Metadata and reading its records the same way under TFX and Kubeflow.

Two orchestrators write the records we read, and they differ in three ways
this module hides:
- where the store is: a local sqlite file (LocalDagRunner) or the cluster's
  gRPC service (Kubeflow's `metadata-grpc-service`): `Target` and `connect`;
- how numbers are stored: TFX writes `blessed`/`pushed` as int_value, KFP's
  launcher re-records every number of an artifact's metadata as double_value
  (kubeflow/pipelines backend/src/v2/metadata/converter.go): `int_property`
  and `string_property` accept int, double or string;
- how runs are named: TFX's local context types `pipeline`/`pipeline_run`/`node`
  and KFP's `system.Pipeline`/`system.PipelineRun` (plus a `task_name` on each
  execution): `pipeline_runs`, `run_of_execution`, `node_name`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from google.protobuf import json_format
from ml_metadata import errors
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd

from core.config import MLMD_GRPC_PORT

# Re-exported so that readers of this layer never import ml_metadata themselves.
Artifact = mlmd.Artifact
MetadataStore = metadata_store.MetadataStore
WithProperties = mlmd.Artifact | mlmd.Execution | mlmd.Context
PropertyValue = int | float | str | None

PIPELINE_CONTEXT_TYPES = ("pipeline", "system.Pipeline")
RUN_CONTEXT_TYPES = ("pipeline_run", "system.PipelineRun")
NODE_CONTEXT_TYPE = "node"  # TFX only, named "<pipeline name>.<node id>"
KFP_TASK_NAME = "task_name"  # KFP's launcher names the task on its execution instead
KFP_INPUTS = "inputs"  # KFP's driver records a task's parameters as one struct
# KFP's root driver writes the run's namespace on its `system.PipelineRun` context
# (backend/src/v2/metadata/client.go, GetPipeline); TFX's local runs have none. KFP names
# the `system.Pipeline` context after the pipeline alone, so only this tells teams apart.
RUN_NAMESPACE = "namespace"

_GRPC_TIMEOUT_SECONDS = 10
_INPUT_EVENTS = (mlmd.Event.INPUT, mlmd.Event.DECLARED_INPUT)
_OUTPUT_EVENTS = (mlmd.Event.OUTPUT, mlmd.Event.DECLARED_OUTPUT)
_STATE_NAMES = {
    mlmd.Execution.COMPLETE: "complete",
    mlmd.Execution.CACHED: "cached",
    mlmd.Execution.FAILED: "failed",
    mlmd.Execution.RUNNING: "running",
    mlmd.Execution.CANCELED: "canceled",
}


class MetadataError(Exception):
    """ML Metadata cannot answer what was asked; the message says why and what to do."""


# ---- connecting ----


@dataclass(frozen=True)
class Target:
    """Which ML Metadata to talk to: a local sqlite file, or a gRPC server (as in a cluster).

    The gRPC server is used when `host` is set; otherwise the sqlite file at
    `sqlite_path`, opened read-only when `read_only` (a summary must not
    create or migrate the store it reports on).
    """

    sqlite_path: str | None = None
    host: str | None = None
    port: int = MLMD_GRPC_PORT
    read_only: bool = False

    def describe(self) -> str:
        """`host:port` or the sqlite path, for messages."""
        return f"{self.host}:{self.port}" if self.host else str(self.sqlite_path)


def connect(target: Target) -> metadata_store.MetadataStore:
    """Opens the store `target` names, failing now rather than at the first query.

    Args:
        target: the sqlite file or gRPC server to open.

    Returns:
        A connected `MetadataStore`.

    Raises:
        MetadataError: the sqlite file does not exist (nothing ran there), or
            the gRPC server does not answer.
    """
    if target.host:
        config = mlmd.MetadataStoreClientConfig(
            host=target.host, port=target.port, client_timeout_sec=_GRPC_TIMEOUT_SECONDS
        )
        store = metadata_store.MetadataStore(config)
        try:
            store.get_context_types()  # the client connects lazily: fail here, clearly
        except errors.StatusError as error:
            raise MetadataError(
                f"cannot reach ML Metadata at {target.describe()} ({type(error).__name__}): "
                "check --mlmd-host/--mlmd-port, e.g. `kubectl port-forward -n kubeflow "
                f"svc/metadata-grpc-service {MLMD_GRPC_PORT}:{MLMD_GRPC_PORT}` "
                "and --mlmd-host localhost"
            ) from error
        return store
    if not target.sqlite_path or not os.path.exists(target.sqlite_path):
        raise MetadataError(
            f"no ML Metadata store at {target.sqlite_path}: run the pipeline first, "
            "or point --output-dir at the directory of a run"
        )
    config = mlmd.ConnectionConfig()
    config.sqlite.filename_uri = target.sqlite_path
    config.sqlite.connection_mode = (
        mlmd.SqliteMetadataSourceConfig.READONLY
        if target.read_only
        else mlmd.SqliteMetadataSourceConfig.READWRITE
    )
    return metadata_store.MetadataStore(config)


# ---- properties ----


def property_value(item: WithProperties, name: str) -> PropertyValue:
    """The value of property `name` of an artifact, execution or context, as stored.

    Looks at the typed properties first, then the custom ones (KFP records
    TFX's typed properties such as `split_names` as custom properties).

    Args:
        item: the MLMD artifact, execution or context.
        name: the property name, e.g. one of `core.artifact_properties`.

    Returns:
        An int, float or str as stored, or None when the property is absent or
        of another kind (struct, proto).
    """
    for values in (item.properties, item.custom_properties):
        if name in values:
            value = values[name]
            kind = value.WhichOneof("value")
            if kind in ("int_value", "double_value", "string_value"):
                return getattr(value, kind)
            if kind == "bool_value":
                return int(value.bool_value)
    return None


def int_property(item: WithProperties, name: str) -> int | None:
    """Property `name` as an int, whether stored as int (1), double (1.0) or string ("1").

    Args:
        item: the MLMD artifact, execution or context.
        name: the property name, e.g. `core.artifact_properties.PUSHED`.

    Returns:
        The whole number stored, or None when absent or not a whole number.
    """
    value = property_value(item, name)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return value


def string_property(item: WithProperties, name: str) -> str | None:
    """Property `name` (e.g. `PUSHED_VERSION`) of `item` as text, or None when absent.

    A whole number stored as double prints without ".0" (3.0 -> "3"), as it
    would have been written by TFX.
    """
    value = property_value(item, name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return None if value is None else str(value)


def execution_parameters(execution: mlmd.Execution) -> dict[str, object]:
    """An execution's parameters, JSON ones decoded (TFX stores protos and dicts as JSON).

    TFX records a component's parameters as (custom) properties of its execution;
    the KFP v2 driver records them all in one struct custom property, `inputs`
    (kubeflow/pipelines backend/src/v2/metadata/client.go, CreateExecution).

    Args:
        execution: the MLMD execution of a component.

    Returns:
        {name: value}; values that are JSON text are decoded.
    """
    result: dict[str, object] = {}
    kfp_inputs = execution.custom_properties.get(KFP_INPUTS)
    if kfp_inputs is not None and kfp_inputs.HasField("struct_value"):
        for name, value in json_format.MessageToDict(kfp_inputs.struct_value).items():
            result[name] = _decoded(value)
    for name in [*execution.properties, *execution.custom_properties]:
        if name == KFP_INPUTS and name in result:
            continue
        value = property_value(execution, name)
        result[name] = _decoded(value)
    return result


def _decoded(value: object) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            pass  # a plain string parameter, not JSON: returned as it is
    return value


def execution_state(execution: mlmd.Execution) -> str:
    """`complete`, `cached`, `failed`, `running`, `canceled` or `unknown`."""
    return _STATE_NAMES.get(execution.last_known_state, "unknown")


# ---- artifacts, events ----


@dataclass
class ExecutionIO:
    """The artifacts an execution read and wrote, by event key (`model`, `blessing`, ...)."""

    inputs: dict[str, mlmd.Artifact] = field(default_factory=dict)
    outputs: dict[str, mlmd.Artifact] = field(default_factory=dict)


def artifacts_by_execution(
    store: metadata_store.MetadataStore, execution_ids: list[int]
) -> dict[int, ExecutionIO]:
    """The inputs and outputs of each execution, keyed as the component names them.

    Matching by event key rather than by type name keeps queries independent of
    how an orchestrator names component types.

    Args:
        store: a connected store.
        execution_ids: the executions to read.

    Returns:
        {execution id: ExecutionIO}, one entry per requested id (empty when it
        has no events).
    """
    result = {execution_id: ExecutionIO() for execution_id in execution_ids}
    if not execution_ids:
        return result
    events = store.get_events_by_execution_ids(execution_ids)
    artifacts = {a.id: a for a in store.get_artifacts_by_id({e.artifact_id for e in events})}
    for event in events:
        io = result[event.execution_id]
        if is_input(event):
            io.inputs[event_key(event)] = artifacts[event.artifact_id]
        elif is_output(event):
            io.outputs[event_key(event)] = artifacts[event.artifact_id]
    return result


def producer(
    store: metadata_store.MetadataStore, artifact: mlmd.Artifact | None
) -> mlmd.Execution | None:
    """The first execution that output `artifact` (later ones are cache hits); None if none."""
    if artifact is None:
        return None
    events = store.get_events_by_artifact_ids([artifact.id])
    ids = [e.execution_id for e in events if is_output(e)]
    return store.get_executions_by_id([min(ids)])[0] if ids else None


def artifacts_of_types(
    store: metadata_store.MetadataStore, type_names: tuple[str, ...]
) -> list[mlmd.Artifact]:
    """Every artifact of any of `type_names`; a type never registered has none."""
    found = []
    for type_name in type_names:
        try:
            found += store.get_artifacts_by_type(type_name)
        except errors.NotFoundError:
            pass  # the type was never registered in this store: no artifacts of it
    return found


def event_key(event: mlmd.Event) -> str:
    """The input/output key the event was recorded under (`model`, `examples`, ...)."""
    return next((step.key for step in event.path.steps if step.HasField("key")), "")


def is_input(event: mlmd.Event) -> bool:
    """Whether the execution read the artifact (declared or not)."""
    return event.type in _INPUT_EVENTS


def is_output(event: mlmd.Event) -> bool:
    """Whether the execution wrote the artifact (declared or not)."""
    return event.type in _OUTPUT_EVENTS


def new_event(event_type: int, key: str) -> mlmd.Event:
    """An event recorded the way TFX records them: path `key`, index 0."""
    event = mlmd.Event(type=event_type)
    event.path.steps.add().key = key
    event.path.steps.add().index = 0
    return event


# ---- runs ----


def pipeline_runs(store: metadata_store.MetadataStore, pipeline_name: str) -> list[mlmd.Context]:
    """The runs of `pipeline_name`, oldest first, under TFX's or KFP's context types.

    A run belongs to the pipeline when it shares an execution with the
    pipeline's context: both orchestrators attribute every execution to both.

    Args:
        store: a connected store.
        pipeline_name: the pipeline's name (TFX `pipeline_name`, KFP pipeline name).

    Returns:
        The run contexts (`name` is the run id), oldest first; [] when the
        pipeline never ran against this store.
    """
    executions: set[int] = set()
    for type_name in PIPELINE_CONTEXT_TYPES:
        context = store.get_context_by_type_and_name(type_name, pipeline_name)
        if context is not None:
            executions |= {e.id for e in store.get_executions_by_context(context.id)}
    if not executions:
        return []
    runs = [
        run
        for type_name in RUN_CONTEXT_TYPES
        for run in store.get_contexts_by_type(type_name)
        if any(e.id in executions for e in store.get_executions_by_context(run.id))
    ]
    return sorted(runs, key=lambda c: (c.create_time_since_epoch, c.id))


@dataclass(frozen=True)
class RunOf:
    """The pipeline, run and namespace an execution belongs to ("" where nothing is recorded:
    a local run has no namespace)."""

    pipeline: str | None = None
    run_id: str | None = None
    namespace: str = ""


def run_of_execution(store: metadata_store.MetadataStore, execution_id: int) -> RunOf:
    """The pipeline name, run id and namespace of an execution's run contexts."""
    pipeline = run = None
    namespace = ""
    for context in store.get_contexts_by_execution(execution_id):
        if context.type in PIPELINE_CONTEXT_TYPES:
            pipeline = context.name
        elif context.type in RUN_CONTEXT_TYPES:
            run = context.name
            namespace = string_property(context, RUN_NAMESPACE) or ""
    return RunOf(pipeline, run, namespace)


def run_namespaces(store: metadata_store.MetadataStore) -> set[str]:
    """The namespaces of every run in the store ("" for runs without one: local runs)."""
    return {
        string_property(run, RUN_NAMESPACE) or ""
        for type_name in RUN_CONTEXT_TYPES
        for run in store.get_contexts_by_type(type_name)
    }


def node_name(
    store: metadata_store.MetadataStore, execution: mlmd.Execution, pipeline_name: str
) -> str:
    """The component (node, task) an execution ran: `Trainer`, `Evaluator`, ...

    TFX names a `node` context `<pipeline name>.<node id>`; KFP records the
    task name on the execution. Falls back to the execution id.
    """
    prefix = pipeline_name + "."
    for context in store.get_contexts_by_execution(execution.id):
        if context.type == NODE_CONTEXT_TYPE and context.name.startswith(prefix):
            return context.name[len(prefix) :]
    return string_property(execution, KFP_TASK_NAME) or str(execution.id)
