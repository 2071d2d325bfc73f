"""The history of every trained model, read from (and promotions written to) ML Metadata.

Everything comes from TFX's own records: the Trainer's `model` output, the
Evaluator's `evaluation`/`blessing` outputs and its inputs (`model`, and
`baseline_model`, or on Kubeflow its `baseline` parameter), the Pusher's
`pushed_model` output. A promotion or rollback is recorded the same way a
Pusher records a push: an Execution (of type `ModelPromotion`, with who, when,
why) whose input is the Model and whose output is a PushedModel artifact. So
one query shows pipeline pushes and manual promotions side by side, and any
MLMD tool can follow the lineage.

Artifacts are matched by the event keys TFX components use (`model`,
`blessing`, `pushed_model`, ...), not by execution type names, so the same
queries work whatever the orchestrator named its component types.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2 as mlmd

from core import artifact_properties as properties
from core.metadata.store import (
    MetadataError,
    MetadataStore,
    artifacts_by_execution,
    artifacts_of_types,
    event_key,
    execution_parameters,
    int_property,
    is_input,
    is_output,
    new_event,
    producer,
    run_namespaces,
    run_of_execution,
    string_property,
)

# Artifact type names: TFX's local runners use the short names; Kubeflow
# Pipelines v2 records TFX artifacts under their `tfx.` schema titles.
MODEL_TYPES = ("Model", "tfx.Model")
PUSHED_MODEL_TYPE = "PushedModel"
PROMOTION_TYPE = "ModelPromotion"
# One context per version number taken in a serving directory: MLMD's unique context names
# make taking one a compare-and-set that every publisher (Pusher, promote) sees.
VERSION_CLAIM_TYPE = "ServingVersionClaim"


class RegistryError(MetadataError):
    """A registry command cannot do what was asked; the message says why and what to do."""


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
    namespace: str = ""  # the KFP profile namespace of its run; "" for a local run
    profile: str | None = None
    trainer_id: int | None = None
    evaluation_uri: str | None = None
    evaluator_id: int | None = None
    blessed: bool | None = None  # None: never evaluated
    baseline_id: int | None = None
    publications: list[Publication] = field(default_factory=list)
    removed: bool = False  # its files were removed by `gc` (the record stays)
    # What the Trainer recorded of its task (components.model_task); None/[] for older models.
    model_name: str | None = None
    dataset: str | None = None
    class_names: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)

    @property
    def task(self) -> dict[str, str]:
        """The task's properties as recorded on the Model artifact ({} when none were)."""
        if self.model_name is None:
            return {}
        return {
            properties.MODEL_NAME: self.model_name,
            properties.CLASS_NAMES: json.dumps(self.class_names),
            properties.SERVING_SIGNATURES: json.dumps(self.signatures),
        }

    @property
    def serving_model_dir(self) -> str:
        """The SavedModel inside the Model artifact (TFX's `Format-Serving`)."""
        return os.path.join(self.uri, "Format-Serving")


@dataclass(frozen=True)
class Scope:
    """Whose models a reader sees: one namespace's, and one pipeline's or every pipeline's.

    KFP keeps the runs of every namespace in one ML Metadata store and names the
    pipeline context after the pipeline alone, so in a multi-user Kubeflow two teams'
    pipelines of the same name share it; only a run's namespace tells them apart.
    Local runs have no namespace ("").
    """

    namespace: str = ""
    pipeline: str | None = None  # None: every pipeline

    def admits(self, record: ModelRecord) -> bool:
        return record.namespace == self.namespace and self.pipeline in (None, record.pipeline)

    def describe(self) -> str:
        where = f"namespace {self.namespace}" if self.namespace else "local runs"
        return f"{where}, pipeline {self.pipeline}" if self.pipeline else where


def reader_scope(store: MetadataStore, namespace: str, pipeline: str | None) -> Scope:
    """The scope of a person's `models` command: `namespace` when given; otherwise the one
    namespace the store holds (a local store, or single-user Kubeflow's `kubeflow`).

    Raises:
        RegistryError: no namespace given and the store holds runs of several.
    """
    if namespace:
        return Scope(namespace, pipeline)
    held = sorted(run_namespaces(store))
    if len(held) > 1:
        raise RegistryError(
            "this ML Metadata store holds the runs of several namespaces ("
            + ", ".join(n or "local runs" for n in held)
            + "): pass --kfp-namespace NAMESPACE to see one team's models"
        )
    return Scope(held[0] if held else "", pipeline)


def list_models(store: MetadataStore, scope: Scope | None = None) -> list[ModelRecord]:
    """Every trained model (of `scope`, when given) with its evaluations and publications.

    Args:
        store: a connected store (see `core.metadata.store.connect`).
        scope: only models whose run is in this namespace and pipeline; None: all.

    Returns:
        One record per Model artifact some execution output under the `model`
        key, oldest first; [] when nothing was trained.
    """
    models = artifacts_of_types(store, MODEL_TYPES)
    if not models:
        return []
    events = store.get_events_by_artifact_ids([m.id for m in models])
    # A cached Trainer re-outputs the same artifact: the first execution trained it.
    produced = {
        e.artifact_id: e
        for e in sorted(events, key=lambda e: e.execution_id, reverse=True)
        if is_output(e) and event_key(e) == "model"
    }
    consumed: dict[int, list[int]] = {}
    for event in events:
        if is_input(event) and event_key(event) == "model":
            consumed.setdefault(event.artifact_id, []).append(event.execution_id)
    records = []
    for model in sorted(models, key=lambda a: a.id):
        if model.id not in produced:
            continue  # e.g. a baseline copy made on Kubeflow, not a trained model
        record = ModelRecord(
            id=model.id,
            uri=model.uri,
            created_ms=model.create_time_since_epoch,
            removed=model.state == mlmd.Artifact.DELETED,
            model_name=string_property(model, properties.MODEL_NAME),
            dataset=string_property(model, properties.DATASET),
            class_names=_json_list(model, properties.CLASS_NAMES),
            signatures=_json_list(model, properties.SERVING_SIGNATURES),
        )
        _read_producer(store, record, produced[model.id].execution_id)
        if scope is not None and not scope.admits(record):
            continue
        _read_consumers(store, record, consumed.get(model.id, []))
        records.append(record)
    return records


def get_model(store: MetadataStore, model_id: int, scope: Scope | None = None) -> ModelRecord:
    """One trained model by its MLMD artifact id.

    Args:
        store: a connected store.
        model_id: the Model artifact's id, as `models list` shows it.
        scope: the model must belong to it (another team's model is not yours to promote).

    Returns:
        The model's record.

    Raises:
        RegistryError: no trained model has that id, or it is outside `scope`.
    """
    for record in list_models(store):
        if record.id != model_id:
            continue
        if scope is not None and not scope.admits(record):
            owner = Scope(record.namespace, scope.pipeline and record.pipeline)
            raise RegistryError(
                f"model {model_id} belongs to {owner.describe()}, not to {scope.describe()}: "
                "pass --kfp-namespace/--pipeline-name of its run to use it"
            )
        return record
    raise RegistryError(
        f"no trained model with id {model_id}: `python -m pipeline models list` shows the ids"
    )


def latest_blessed_model(
    store: MetadataStore, pipeline_name: str, namespace: str = "", model_name: str | None = None
) -> ModelRecord | None:
    """The most recently trained blessed model of `pipeline_name` (the Resolver's choice).

    Args:
        store: a connected store, local or a cluster's.
        pipeline_name: only models trained by this pipeline qualify.
        namespace: ...and only those of runs in this KFP namespace ("": local runs).
        model_name: ...and only those of this name (models from before names were
            recorded qualify too).

    Returns:
        The newest blessed model, or None when none was blessed yet.
    """
    blessed = [
        r
        for r in list_models(store, Scope(namespace, pipeline_name))
        if r.blessed and (model_name is None or r.model_name in (None, model_name))
    ]
    return max(blessed, key=lambda r: (r.created_ms, r.id), default=None)


def publication_history(
    store: MetadataStore, model_serving_dir: str, scope: Scope | None = None
) -> list[tuple[ModelRecord, Publication]]:
    """Everything published into `model_serving_dir`, by pushes and promotions alike.

    Args:
        store: a connected store.
        model_serving_dir: `<serving dir>/<model name>`, the parent of the versions.
        scope: only models of this namespace and pipeline; None: all.

    Returns:
        (model, publication) pairs, by version, lowest first.
    """
    model_serving_dir = os.path.realpath(model_serving_dir)
    history = [
        (record, publication)
        for record in list_models(store, scope)
        for publication in record.publications
        if os.path.realpath(os.path.dirname(publication.path)) == model_serving_dir
    ]
    return sorted(history, key=lambda item: item[1].version)


def record_publication(
    store: MetadataStore,
    model_id: int,
    action: str,
    version: int,
    path: str,
    reason: str,
    forced: bool,
) -> int:
    """Records a promotion or rollback the way a Pusher records a push.

    Args:
        store: a store opened read-write.
        model_id: the Model artifact that was published.
        action: "promote" or "rollback".
        version: the version number it was published as.
        path: the version directory it was copied to.
        reason: why, in the user's words.
        forced: whether an unblessed model was published on purpose.

    Returns:
        The id of the new `ModelPromotion` execution (Model in, PushedModel out).
    """
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
    pushed.custom_properties[properties.PUSHED].int_value = 1
    pushed.custom_properties[properties.PUSHED_DESTINATION].string_value = path
    pushed.custom_properties[properties.PUSHED_VERSION].string_value = str(version)
    (model,) = store.get_artifacts_by_id([model_id])
    execution_id, _, _ = store.put_execution(
        execution,
        artifact_and_events=[
            (model, new_event(mlmd.Event.INPUT, "model")),
            (pushed, new_event(mlmd.Event.OUTPUT, "pushed_model")),
        ],
        contexts=[],
    )
    return execution_id


Claim = Callable[[int], bool]


def version_claims(store: MetadataStore, model_serving_dir: str) -> Claim:
    """`claim(version)` for `core.serving_layout.publish_version`: True for the one publisher
    that records `<model_serving_dir>/<version>` first, False for every other.

    A bucket has no atomic rename, so two publishers that both see version 3 as the
    highest would both write 4; the store's unique (type, name) of contexts settles it.
    """

    def claim(version: int) -> bool:
        type_id = store.put_context_type(mlmd.ContextType(name=VERSION_CLAIM_TYPE))
        name = f"{model_serving_dir.rstrip('/')}/{version}"
        try:
            store.put_contexts([mlmd.Context(type_id=type_id, name=name)])
        except errors.AlreadyExistsError:
            return False
        return True

    return claim


def lineage(store: MetadataStore, record: ModelRecord) -> dict[str, Any]:
    """Where a model came from: dataset (name, version, splits), Transform graph, Trainer config.

    Follows the events back: Trainer inputs -> Transform -> its raw examples ->
    the ExampleGen execution's parameters.

    Args:
        store: a connected store.
        record: a model from `list_models`/`get_model`.

    Returns:
        {"trainer": {...}, "transform_graph": uri, "dataset": {...} or None}.
    """
    (trainer,) = store.get_executions_by_id([record.trainer_id])
    trainer_inputs = _inputs(store, trainer.id)
    trainer_parameters = execution_parameters(trainer)
    result: dict[str, Any] = {
        "trainer": {
            "execution_id": trainer.id,
            **{
                name: trainer_parameters.get(name)
                for name in ("run_fn", "custom_config", "train_args", "eval_args")
            },
        },
        "transform_graph": _uri(trainer_inputs.get("transform_graph")),
        "dataset": None,
    }
    transform = producer(store, trainer_inputs.get("examples"))
    raw_examples = _inputs(store, transform.id).get("examples") if transform else None
    example_gen = producer(store, raw_examples)
    if example_gen is not None:
        parameters = execution_parameters(example_gen)
        splits = (parameters.get("input_config") or {}).get("splits", [])
        result["dataset"] = {
            "name": parameters.get("dataset_name"),
            "version": string_property(raw_examples, "dataset_version")
            or parameters.get("dataset_version")
            or "(the newest prepared in data_dir)",
            "data_dir": parameters.get("data_dir"),
            "splits": {s["name"]: s["pattern"] for s in splits},
            "examples": raw_examples.uri,
        }
    return result


def evaluator_parameters(store: MetadataStore, record: ModelRecord) -> dict[str, Any]:
    """The parameters of the Evaluator run that judged `record` (its `eval_config`, ...).

    Args:
        store: a connected store.
        record: a model from `list_models`/`get_model`.

    Returns:
        {name: value}, JSON decoded; {} when the model was never evaluated.
    """
    if record.evaluator_id is None:
        return {}
    (evaluator,) = store.get_executions_by_id([record.evaluator_id])
    return execution_parameters(evaluator)


# ---- reading one model's history ----


def _read_producer(store: MetadataStore, record: ModelRecord, execution_id: int) -> None:
    (trainer,) = store.get_executions_by_id([execution_id])
    record.trainer_id = trainer.id
    custom_config = execution_parameters(trainer).get("custom_config") or {}
    record.profile = custom_config.get("profile")
    run = run_of_execution(store, trainer.id)
    record.pipeline, record.run_id, record.namespace = run.pipeline, run.run_id, run.namespace


def _read_consumers(store: MetadataStore, record: ModelRecord, execution_ids: list[int]) -> None:
    """Evaluations (newest decides `blessed`) and publications of this model."""
    if not execution_ids:
        return
    executions = {e.id: e for e in store.get_executions_by_id(execution_ids)}
    by_execution = artifacts_by_execution(store, sorted(executions))
    for execution_id, io in sorted(by_execution.items()):
        if "blessing" in io.outputs:
            record.evaluator_id = execution_id
            record.blessed = int_property(io.outputs["blessing"], properties.BLESSED) == 1
            evaluation = io.outputs.get("evaluation")
            record.evaluation_uri = evaluation.uri if evaluation is not None else None
            baseline = io.inputs.get("baseline_model")
            record.baseline_id = (
                baseline.id
                if baseline is not None
                else _looked_up_baseline_id(executions[execution_id])
            )
        pushed = io.outputs.get("pushed_model")
        if pushed is not None and int_property(pushed, properties.PUSHED) == 1:
            record.publications.append(_publication(executions[execution_id], pushed))


def _publication(execution: mlmd.Execution, pushed: mlmd.Artifact) -> Publication:
    version = string_property(pushed, properties.PUSHED_VERSION) or ""
    publication = Publication(
        version=int(version) if version.isdigit() else -1,
        path=string_property(pushed, properties.PUSHED_DESTINATION) or "",
        action="push",
        time_ms=execution.create_time_since_epoch,
    )
    if execution.type == PROMOTION_TYPE:
        publication.action = string_property(execution, "action") or ""
        publication.who = string_property(execution, "who") or ""
        publication.reason = string_property(execution, "reason") or ""
        publication.forced = int_property(execution, "forced") == 1
    return publication


# ---- small helpers ----


def _json_list(artifact: mlmd.Artifact, name: str) -> list[str]:
    value = string_property(artifact, name)
    return list(json.loads(value)) if value else []


def _looked_up_baseline_id(evaluator: mlmd.Execution) -> int | None:
    """On Kubeflow the Evaluator gets the baseline BaselineLookup found as a parameter."""
    found = execution_parameters(evaluator).get(properties.LOOKED_UP_BASELINE)
    return found.get("model_id") if isinstance(found, dict) else None


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return f"uid {os.getuid()}"


def _inputs(store: MetadataStore, execution_id: int) -> dict[str, mlmd.Artifact]:
    return artifacts_by_execution(store, [execution_id])[execution_id].inputs


def _uri(artifact: mlmd.Artifact | None) -> str | None:
    return artifact.uri if artifact is not None else None
