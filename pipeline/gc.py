"""`python -m pipeline gc` (and `python -m kubeflow gc`): remove the payloads of old runs.

`core.metadata.retention` decides what stays (served versions and their lineage, the
newest N blessed models, what running executions use, every evaluation record); this
module measures what goes, marks it DELETED in ML Metadata, makes KFP forget the runs
that lost outputs (on Kubeflow, through `forget_runs`), then removes the files, locally
or in a bucket (through `tf.io.gfile`). In that order: a collection killed half-way
leaves records that say DELETED over files that may still exist, never the reverse,
so no cache ever hands out an artifact whose files are gone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from core import serving_layout
from core.config import PipelineConfig
from core.metadata import models
from core.metadata.retention import RetentionPlan, mark_deleted, plan_retention, served_model_ids
from core.metadata.store import MetadataStore
from core.storage import files_for, size_of


@dataclass
class Collection:
    """What a collection removed (or, dry, would remove)."""

    plan: RetentionPlan
    sizes: dict[int, int]  # artifact id -> bytes of its payload
    dry_run: bool

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes.values())

    def format(self) -> str:
        """Lines for a terminal: each artifact with its size, the total, what stays and why."""
        verb = "would remove" if self.dry_run else "removed"
        lines = [
            f"{verb} {removal.type_name} {removal.artifact.id}: {removal.artifact.uri} "
            f"({_size(self.sizes[removal.artifact.id])})"
            for removal in self.plan.remove
        ]
        lines.append(
            f"{verb} {len(self.plan.remove)} artifacts, {_size(self.total_bytes)}; "
            f"kept {len(self.plan.kept)}"
        )
        reasons = Counter(reason.split(" of artifact")[0] for reason in self.plan.kept.values())
        lines += [f"  kept: {count} for {reason}" for reason, count in sorted(reasons.items())]
        if self.plan.outside_root:
            lines.append(
                f"left alone: {len(self.plan.outside_root)} artifacts outside this pipeline root "
                "(another output directory's; collect them there)"
            )
        return "\n".join(lines)


def collect(
    store: MetadataStore,
    config: PipelineConfig,
    scope: models.Scope,
    keep: int,
    dry_run: bool,
    forget_runs: Callable[[set[str]], None] | None = None,
) -> Collection:
    """Plans and (unless `dry_run`) carries out a collection of `scope`'s runs.

    Args:
        store: a connected store (read-write unless `dry_run`).
        config: the pipeline root, serving directory and model name.
        scope: whose runs (namespace, pipeline).
        keep: the newest blessed models that stay (at least 1).
        dry_run: measure and report only.
        forget_runs: makes the orchestrator's cache forget runs (Kubeflow: deletes them
            through the KFP API); None where the cache honours DELETED (TFX's).

    Returns:
        What was (or would be) removed.
    """
    model_dir = config.model_serving_dir
    files = files_for(model_dir)
    version_dirs = {files.join(model_dir, str(v)) for v in serving_layout.versions(model_dir)}
    served = served_model_ids(models.list_models(store, scope), version_dirs)
    plan = plan_retention(
        store, scope, keep, served, config.pipeline_root, cache_by_run=forget_runs is not None
    )
    sizes = {removal.artifact.id: size_of(removal.artifact.uri) for removal in plan.remove}
    if not dry_run and plan.remove:
        mark_deleted(store, plan.remove)
        if forget_runs is not None and plan.runs_to_forget:
            forget_runs(plan.runs_to_forget)
        for removal in plan.remove:
            files_for(removal.artifact.uri).remove(removal.artifact.uri)
    return Collection(plan, sizes, dry_run)


def _size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"
