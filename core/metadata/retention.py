"""What a garbage collection of old runs may remove, and what it must keep, read from ML Metadata.

Every run writes gigabytes at full size (examples, transformed examples, a model)
and nothing else ever deletes them. A plan keeps:

- every model a version in the serving directory holds, and its lineage (every
  artifact it was derived from: examples, statistics, schema, transform graph,
  transformed examples), so each served version can be explained and retrained;
- the newest N blessed models (the newest is the next run's baseline) and their lineage;
- everything an execution still RUNNING reads or writes;
- every evaluation, blessing and publication record (a few kB each): `models list`
  shows every model's metrics and history after its files are gone.

Everything else that a run of the pipeline wrote under its pipeline root goes. An
execution's outputs go together or not at all: a cache hands out an execution's
outputs as one, so none may be missing. Removed artifacts are marked DELETED in the
same step: TFX's cache then never hands one out again (it reuses LIVE outputs only,
`tfx/orchestration/portable/cache_utils.py`).

KFP's cache checks neither state nor existence (backend/src/v2/driver/cache.go,
reuseCachedOutputs), so on Kubeflow the runs whose cached executions lose outputs must
be deleted from KFP too (`runs_to_forget`): a run's cache entries go with it, all of
them. With `cache_by_run`, a run any of whose cached executions keeps outputs is
therefore left whole (deleting it would make KFP recompute what stays).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ml_metadata.proto import metadata_store_pb2 as mlmd

from core.metadata.models import PUSHED_MODEL_TYPE, ModelRecord, Scope, list_models
from core.metadata.store import (
    RUN_NAMESPACE,
    MetadataStore,
    is_input,
    is_output,
    pipeline_runs,
    string_property,
)

# Records, not payloads: kept whatever happens (evaluations are small; publications point at
# the serving directory, which gc never touches).
_RECORD_TYPES = (
    "ModelEvaluation", "tfx.ModelEvaluation", "ModelBlessing", "tfx.ModelBlessing",
    PUSHED_MODEL_TYPE, f"tfx.{PUSHED_MODEL_TYPE}",
)  # fmt: skip
_DAG_EXECUTION_TYPE = "system.DAGExecution"  # KFP's root DAG: never COMPLETE from 2.5.0 on
_CACHE_FINGERPRINT = "cache_fingerprint"  # KFP's driver records it when caching is on
_RUNNING = (mlmd.Execution.NEW, mlmd.Execution.RUNNING)


@dataclass
class Removal:
    """One artifact a collection removes: its payload goes, its record is marked DELETED."""

    artifact: mlmd.Artifact
    type_name: str
    # The runs with a cache entry for it (KFP: an execution that ran with a fingerprint).
    cached_in: set[str] = field(default_factory=set)


@dataclass
class RetentionPlan:
    """What a collection removes, and why everything else stays."""

    remove: list[Removal]
    kept: dict[int, str]  # artifact id -> why it stays
    outside_root: list[mlmd.Artifact]  # would go, but lie outside the pipeline root
    # Runs with cache entries of removed outputs: KFP must forget them (delete the runs).
    runs_to_forget: set[str] = field(default_factory=set)


def plan_retention(
    store: MetadataStore,
    scope: Scope,
    keep: int,
    served_models: set[int],
    pipeline_root: str,
    cache_by_run: bool = False,
) -> RetentionPlan:
    """Decides what a collection of `scope`'s runs removes.

    Args:
        store: a connected store.
        scope: the namespace and pipeline whose runs are collected (pipeline required).
        keep: how many of the newest blessed models stay (at least 1: the baseline).
        served_models: ids of the models a version in the serving directory holds.
        pipeline_root: only artifacts under it are ever removed.
        cache_by_run: the orchestrator forgets cache entries by whole runs (KFP).

    Returns:
        The plan; nothing is changed.
    """
    if keep < 1:
        raise ValueError("keep must be at least 1: the newest blessed model is the baseline")
    executions, run_of, events = _executions_and_events(store, scope)
    artifacts = {a.id: a for a in store.get_artifacts_by_id({e.artifact_id for e in events})}
    types = {t.id: t.name for t in store.get_artifact_types()}
    producers: dict[int, set[int]] = {}
    inputs: dict[int, set[int]] = {}
    outputs: dict[int, set[int]] = {}
    for event in events:
        if is_output(event):
            producers.setdefault(event.artifact_id, set()).add(event.execution_id)
            outputs.setdefault(event.execution_id, set()).add(event.artifact_id)
        elif is_input(event):
            inputs.setdefault(event.execution_id, set()).add(event.artifact_id)

    kept: dict[int, str] = {}
    records = {r.id: r for r in list_models(store, scope)}
    for model_id in sorted(served_models & set(records)):
        kept[model_id] = "a version in the serving directory holds it"
    blessed = sorted((r for r in records.values() if r.blessed), key=_newest_first)
    for rank, record in enumerate(blessed[:keep]):
        kept.setdefault(record.id, "the baseline" if rank == 0 else f"newest blessed #{rank + 1}")
    _keep_lineage(kept, producers, inputs, outputs)
    for execution in executions.values():
        if execution.last_known_state in _RUNNING and execution.type != _DAG_EXECUTION_TYPE:
            for artifact_id in inputs.get(execution.id, set()) | outputs.get(execution.id, set()):
                kept.setdefault(artifact_id, f"execution {execution.id} is still running")
    _keep_lineage(kept, producers, inputs, outputs)

    remove, outside = [], []
    root = pipeline_root.rstrip("/") + "/"
    for artifact_id, artifact in sorted(artifacts.items()):
        type_name = types.get(artifact.type_id, "")
        if (
            artifact_id in kept
            or artifact_id not in producers
            or artifact.state != mlmd.Artifact.LIVE
            or type_name in _RECORD_TYPES
        ):
            continue
        if not artifact.uri.startswith(root):
            outside.append(artifact)
            continue
        cached_in = {run_of[e] for e in producers[artifact_id] if _has_cache_entry(executions[e])}
        remove.append(Removal(artifact, type_name, cached_in))
    if cache_by_run:
        remove = _whole_runs_only(remove, kept, executions, run_of, outputs)
    return RetentionPlan(remove, kept, outside, {r for x in remove for r in x.cached_in})


def _has_cache_entry(execution: mlmd.Execution) -> bool:
    """KFP adds a cache entry for an execution it ran with caching on (launcher_v2.go, Execute)."""
    return execution.last_known_state == mlmd.Execution.COMPLETE and bool(
        string_property(execution, _CACHE_FINGERPRINT)
    )


def _whole_runs_only(
    remove: list[Removal],
    kept: dict[int, str],
    executions: dict[int, mlmd.Execution],
    run_of: dict[int, str],
    outputs: dict[int, set[int]],
) -> list[Removal]:
    """Leaves out what would make KFP forget a run whose cache entries still hold kept outputs."""
    keeping = {
        run_of[e.id]
        for e in executions.values()
        if _has_cache_entry(e) and outputs.get(e.id, set()) & kept.keys()
    }
    left = []
    for removal in remove:
        blocked = removal.cached_in & keeping
        if blocked:
            kept[removal.artifact.id] = f"run {min(blocked)} keeps KFP cache entries of kept files"
        else:
            left.append(removal)
    return left


def mark_deleted(store: MetadataStore, removals: list[Removal]) -> None:
    """Marks the removed artifacts DELETED, so that no cache hands one out again."""
    deleted = []
    for removal in removals:
        artifact = mlmd.Artifact()
        artifact.CopyFrom(removal.artifact)
        artifact.state = mlmd.Artifact.DELETED
        deleted.append(artifact)
    if deleted:
        store.put_artifacts(deleted)


def served_model_ids(records: list[ModelRecord], version_dirs: set[str]) -> set[int]:
    """The models whose publication (push, promote, rollback) is still a version on disk."""
    return {
        record.id
        for record in records
        for publication in record.publications
        if publication.path.rstrip("/") in version_dirs
    }


def _executions_and_events(
    store: MetadataStore, scope: Scope
) -> tuple[dict[int, mlmd.Execution], dict[int, str], list[mlmd.Event]]:
    """The executions of `scope`'s runs, the run of each, and all their events."""
    executions: dict[int, mlmd.Execution] = {}
    run_of: dict[int, str] = {}
    for run in pipeline_runs(store, scope.pipeline or ""):
        if (string_property(run, RUN_NAMESPACE) or "") != scope.namespace:
            continue
        for execution in store.get_executions_by_context(run.id):
            executions[execution.id] = execution
            run_of[execution.id] = run.name
    events = store.get_events_by_execution_ids(list(executions)) if executions else []
    return executions, run_of, list(events)


def _keep_lineage(
    kept: dict[int, str],
    producers: dict[int, set[int]],
    inputs: dict[int, set[int]],
    outputs: dict[int, set[int]],
) -> None:
    """Adds what every kept artifact was derived from, and its producers' other outputs."""
    pending = list(kept)
    while pending:
        artifact_id = pending.pop()
        for execution_id in producers.get(artifact_id, ()):
            for related in inputs.get(execution_id, set()) | outputs.get(execution_id, set()):
                if related not in kept:
                    kept[related] = f"lineage of artifact {artifact_id}"
                    pending.append(related)


def _newest_first(record: ModelRecord) -> tuple[int, int]:
    return (-record.created_ms, -record.id)
