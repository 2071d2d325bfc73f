"""Writes ML Metadata records into a real sqlite store, as TFX's local runner or KFP would.

The two orchestrators differ in what the metadata layer must hide: context type
names (`pipeline`/`pipeline_run`/`node` vs `system.Pipeline`/`system.PipelineRun`
and a `task_name` on the execution), artifact type names (`Model` vs `tfx.Model`)
and how numbers are stored (TFX: int_value; KFP's launcher: double_value).
"""

from __future__ import annotations

from dataclasses import dataclass

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd

from core import artifact_properties as properties
from core.metadata.store import new_event

PropertyValue = int | float | str


@dataclass(frozen=True)
class Shape:
    """How one orchestrator names what it records."""

    pipeline_context: str
    run_context: str
    node_context: str | None  # None: the task name is an execution property
    type_prefix: str


TFX = Shape("pipeline", "pipeline_run", "node", "")
KFP = Shape("system.Pipeline", "system.PipelineRun", None, "tfx.")


def create_store(path: str) -> metadata_store.MetadataStore:
    """A new, empty sqlite MLMD store at `path` (schema created)."""
    config = mlmd.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = mlmd.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(config)


def set_property(values, name: str, value: PropertyValue) -> None:
    """Stores `value` as int_value, double_value or string_value, after its Python type."""
    if isinstance(value, bool | int):
        values[name].int_value = int(value)
    elif isinstance(value, float):
        values[name].double_value = value
    else:
        values[name].string_value = value


class Recorder:
    """Records executions of one pipeline run the way `shape`'s orchestrator does."""

    def __init__(
        self,
        store: metadata_store.MetadataStore,
        shape: Shape,
        pipeline: str,
        run_id: str,
        namespace: str = "",
    ):
        """`namespace`: KFP's property of the run's context (local runs have none)."""
        self.store, self.shape, self.pipeline = store, shape, pipeline
        self.pipeline_context = self._context(shape.pipeline_context, pipeline)
        self.run_context = self._context(
            shape.run_context, run_id, {"namespace": namespace} if namespace else {}
        )

    def artifact(self, type_name: str, uri: str, **custom: PropertyValue) -> mlmd.Artifact:
        """A new (unsaved) artifact of `type_name` (prefixed as the orchestrator does)."""
        type_id = self.store.put_artifact_type(
            mlmd.ArtifactType(name=self.shape.type_prefix + type_name)
        )
        artifact = mlmd.Artifact(type_id=type_id, uri=uri, state=mlmd.Artifact.LIVE)
        for name, value in custom.items():
            set_property(artifact.custom_properties, name, value)
        return artifact

    def execution(
        self,
        node: str,
        inputs: dict[str, mlmd.Artifact] | None = None,
        outputs: dict[str, mlmd.Artifact] | None = None,
        **custom: PropertyValue,
    ) -> int:
        """Records one component execution; returns its id and gives the artifacts theirs."""
        type_id = self.store.put_execution_type(mlmd.ExecutionType(name=node))
        execution = mlmd.Execution(type_id=type_id, last_known_state=mlmd.Execution.COMPLETE)
        for name, value in custom.items():
            set_property(execution.custom_properties, name, value)
        contexts = [self.pipeline_context, self.run_context]
        if self.shape.node_context:
            contexts.append(self._context(self.shape.node_context, f"{self.pipeline}.{node}"))
        else:
            execution.custom_properties["task_name"].string_value = node
        events = [
            *((a, new_event(mlmd.Event.INPUT, k)) for k, a in (inputs or {}).items()),
            *((a, new_event(mlmd.Event.OUTPUT, k)) for k, a in (outputs or {}).items()),
        ]
        execution_id, artifact_ids, _ = self.store.put_execution(execution, events, contexts)
        for (artifact, _), artifact_id in zip(events, artifact_ids, strict=True):
            artifact.id = artifact_id
        return execution_id

    def _context(self, type_name: str, name: str, custom: dict | None = None) -> mlmd.Context:
        existing = self.store.get_context_by_type_and_name(type_name, name)
        if existing is not None:
            return existing
        type_id = self.store.put_context_type(mlmd.ContextType(name=type_name))
        context = mlmd.Context(type_id=type_id, name=name)
        for key, value in (custom or {}).items():
            set_property(context.custom_properties, key, value)
        (context_id,) = self.store.put_contexts([context])
        return self.store.get_contexts_by_id([context_id])[0]


def record_two_runs(
    db: metadata_store.MetadataStore, shape: Shape, number: type, root: str, namespace: str = ""
) -> tuple[mlmd.Artifact, mlmd.Artifact]:
    """Pipeline `p`: run-1 trains a blessed model that is pushed; run-2 a worse one.

    `number` (int, float or str) is how numbers such as `blessed` are stored;
    artifact URIs are under `root`; `namespace` is the runs' (KFP; their ids are then
    `<namespace>/run-N`: KFP's run ids are unique). Returns the (good, worse) Model artifacts.
    """
    prefix = f"{namespace}/" if namespace else ""
    first = Recorder(db, shape, "p", f"{prefix}run-1", namespace)
    good = first.artifact("Model", f"{root}/models/good")
    first.execution("Trainer", outputs={"model": good}, custom_config='{"profile": "sample"}')
    first.execution(
        "Evaluator",
        inputs={"model": good},
        outputs={
            "evaluation": first.artifact("ModelEvaluation", f"{root}/evaluations/good"),
            "blessing": first.artifact("ModelBlessing", "/b1", **{properties.BLESSED: number(1)}),
        },
    )
    pushed = first.artifact(
        "PushedModel",
        "/pushed",
        **{
            properties.PUSHED: number(1),
            properties.PUSHED_VERSION: number(1),
            properties.PUSHED_DESTINATION: "/serving/cats/1",
        },
    )
    first.execution("Pusher", inputs={"model": good}, outputs={"pushed_model": pushed})
    second = Recorder(db, shape, "p", f"{prefix}run-2", namespace)
    worse = second.artifact("Model", f"{root}/models/worse")
    second.execution("Trainer", outputs={"model": worse}, custom_config='{"profile": "sample"}')
    second.execution(
        "Evaluator",
        inputs={"model": worse, "baseline_model": good},
        outputs={
            "blessing": second.artifact("ModelBlessing", "/b2", **{properties.BLESSED: number(0)})
        },
    )
    return good, worse
