"""`python -m pipeline gc`: old runs' files go, what serving, the baseline and running runs need
stays, and no cache hands out what was removed.

The history collected is written here, in a directory of its own (a collection removes
only what lies under its own pipeline root, and the session's other runs share e2e_run's
artifacts): a good model, pushed as version 1, then a worse one, refused. After the
collection the first command runs again there, through the real CLI. The retention rules
themselves are checked on records written the way TFX and KFP write them; the Kubeflow
side (KFP's cache forgetting the collected runs) is replayed in
tests/kubeflow/test_kfp_replay.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.metadata import models as registry
from core.metadata import store
from core.metadata.retention import plan_retention
from pipeline import run_lock
from tests.conftest import (
    REPO_ROOT,
    WORSE_MODEL_FLAGS,
    PipelineRun,
    run_cli,
    sample_run_args,
)
from tests.core.metadata.records import KFP, TFX, Recorder, create_store

# What is under test is the bookkeeping, not the accuracy: two head epochs, no fine-tuning,
# no value threshold; the worse model (its head left at its random start) is refused by a
# change threshold of 0 against the good one.
QUICK_FLAGS = ("--head-epochs", "2", "--fine-tune-epochs", "0", "--min-accuracy", "0")
REFUSED_FLAGS = (*WORSE_MODEL_FLAGS, "--min-accuracy", "0", "--max-accuracy-drop", "0")


def gc_cli(output_dir: Path, *flags: str) -> subprocess.CompletedProcess:
    """`python -m pipeline gc`, as a user types it."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "gc", "--output-dir", str(output_dir), *flags],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def payload_bytes(output_dir: Path) -> int:
    root = output_dir / "pipeline_root"
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


# ---- a real history, collected, then the e2e command again ----


def _run(data_dir: str, output_dir: Path, *flags: str) -> subprocess.CompletedProcess:
    process = run_cli(*sample_run_args(data_dir, output_dir, *flags), cwd=output_dir.parent)
    assert process.returncode == 0, process.stdout + process.stderr
    return process


@pytest.fixture(scope="module")
def collected(sample_data_dir, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("gc") / "outputs"
    _run(sample_data_dir, output_dir, *QUICK_FLAGS)
    _run(sample_data_dir, output_dir, *REFUSED_FLAGS)
    db = store.connect(store.Target(sqlite_path=str(output_dir / "metadata.sqlite")))
    good, worse = registry.list_models(db)
    assert (good.blessed, worse.blessed) == (True, False)
    before = payload_bytes(output_dir)
    dry = gc_cli(output_dir, "--keep", "1", "--dry-run")
    after_dry_run = payload_bytes(output_dir)
    real = gc_cli(output_dir, "--keep", "1")
    after = payload_bytes(output_dir)
    rerun = _run(sample_data_dir, output_dir, *QUICK_FLAGS)
    return {
        "output_dir": output_dir,
        "good": good,
        "worse": worse,
        "dry": dry,
        "real": real,
        "bytes": (before, after_dry_run, after),
        "rerun": PipelineRun(rerun, output_dir, sample_data_dir),
    }


@pytest.mark.e2e
def test_a_dry_run_lists_what_would_go_and_changes_nothing(collected):
    dry = collected["dry"]
    before, after_dry_run, _ = collected["bytes"]
    assert dry.returncode == 0, dry.stderr
    assert after_dry_run == before
    assert "would remove" in dry.stdout and collected["worse"].uri in dry.stdout
    assert collected["good"].uri not in dry.stdout


@pytest.mark.e2e
def test_gc_removes_the_worse_runs_files_and_keeps_the_served_models_lineage(collected):
    real, good, worse = collected["real"], collected["good"], collected["worse"]
    before, _, after = collected["bytes"]
    assert real.returncode == 0, real.stderr
    assert not os.path.exists(worse.uri)
    assert os.path.isdir(os.path.join(good.serving_model_dir))
    assert after < before
    # Every line of the dry run's list went, and the totals agree.
    dry_lines = [
        line for line in collected["dry"].stdout.splitlines() if line.startswith("would remove ")
    ]
    real_lines = [line for line in real.stdout.splitlines() if line.startswith("removed ")]
    assert [line.replace("would remove", "removed") for line in dry_lines] == real_lines
    db = store.connect(store.Target(sqlite_path=str(collected["output_dir"] / "metadata.sqlite")))
    (worse_artifact,) = db.get_artifacts_by_id([worse.id])
    assert worse_artifact.state == store.Artifact.DELETED
    lineage = registry.lineage(db, registry.get_model(db, good.id))
    assert os.path.isdir(lineage["transform_graph"])
    assert os.path.isdir(lineage["dataset"]["examples"])


@pytest.mark.e2e
def test_a_rerun_recomputes_what_was_removed_and_reuses_what_was_kept(collected):
    rerun = collected["rerun"]
    statuses = {c["component"]: c["status"] for c in rerun.summary["components"]}
    # The good model's lineage was kept: served from TFX's cache.
    for kept in ("TfdsExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer"):
        assert statuses[kept] == "cached", (kept, statuses)
    # ExampleValidator's anomalies are in no model's lineage: removed, so computed again.
    assert statuses["ExampleValidator"] != "cached"
    assert rerun.summary["already_serving_version"] == 1


@pytest.mark.e2e
def test_models_list_marks_the_removed_model_and_promote_refuses_it_saying_why(collected):
    output_dir = collected["output_dir"]
    listed = run_cli("models", "list", "--json", "--output-dir", str(output_dir), cwd=output_dir)
    assert listed.returncode == 0, listed.stderr
    by_id = {m["id"]: m for m in json.loads(listed.stdout)}
    assert by_id[collected["worse"].id]["removed"] and not by_id[collected["good"].id]["removed"]
    assert by_id[collected["worse"].id]["metrics"]  # its evaluation record stays
    common = ("--output-dir", str(output_dir), "--force", "--reason", "canary")
    refused = run_cli("models", "promote", str(collected["worse"].id), *common, cwd=output_dir)
    assert refused.returncode == 2
    assert "was removed by `gc`" in refused.stderr
    kept = run_cli("models", "promote", str(collected["good"].id), *common, cwd=output_dir)
    assert kept.returncode == 0, kept.stderr
    assert "is version 2" in kept.stdout


@pytest.mark.e2e
def test_gc_refuses_while_a_run_holds_the_output_directory(collected):
    output_dir = collected["output_dir"]
    with run_lock.output_dir_lock(str(output_dir)):
        refused = gc_cli(output_dir, "--keep", "1")
    assert refused.returncode == 1
    assert "run gc once it has finished" in refused.stderr and str(os.getpid()) in refused.stderr


def test_keep_zero_is_refused_with_the_reason(tmp_path):
    refused = gc_cli(tmp_path, "--keep", "0")
    assert refused.returncode == 2 and "keep at least 1" in refused.stderr


# ---- the rules, on records written as TFX and KFP write them ----


def _history(db, root: Path, shape=TFX, namespace: str = "") -> dict[str, int]:
    """Two runs of pipeline `p`: run-1's model is served; run-2's is newer and blessed too;
    run-3's Trainer is still running on run-1's examples. Payloads are real folders."""

    def artifact(recorder, type_name: str, name: str):
        path = root / "pipeline_root" / name
        path.mkdir(parents=True)
        (path / "data").write_bytes(b"x" * 1000)
        return recorder.artifact(type_name, str(path))

    first = Recorder(db, shape, "p", f"{namespace}run-1", namespace)
    examples = artifact(first, "Examples", "examples-1")
    first.execution("TfdsExampleGen", outputs={"examples": examples})
    anomalies = artifact(first, "ExampleAnomalies", "anomalies-1")
    first.execution("ExampleValidator", inputs={"examples": examples}, outputs={"a": anomalies})
    model_1 = artifact(first, "Model", "model-1")
    first.execution("Trainer", inputs={"examples": examples}, outputs={"model": model_1})
    blessing = first.artifact("ModelBlessing", "/b1", blessed=1)
    first.execution("Evaluator", inputs={"model": model_1}, outputs={"blessing": blessing})
    served = root / "serving" / "cats" / "1"
    served.mkdir(parents=True)
    pushed = first.artifact(
        "PushedModel", str(served), pushed=1, pushed_version="1", pushed_destination=str(served)
    )
    first.execution("Pusher", inputs={"model": model_1}, outputs={"pushed_model": pushed})
    second = Recorder(db, shape, "p", f"{namespace}run-2", namespace)
    examples_2 = artifact(second, "Examples", "examples-2")
    second.execution("TfdsExampleGen", outputs={"examples": examples_2})
    model_2 = artifact(second, "Model", "model-2")
    second.execution("Trainer", inputs={"examples": examples_2}, outputs={"model": model_2})
    blessing_2 = second.artifact("ModelBlessing", "/b2", blessed=1)
    second.execution("Evaluator", inputs={"model": model_2}, outputs={"blessing": blessing_2})
    third = Recorder(db, shape, "p", f"{namespace}run-3", namespace)
    model_3 = artifact(third, "Model", "model-3")
    running = third.execution("Trainer", inputs={"examples": examples}, outputs={"model": model_3})
    (execution,) = db.get_executions_by_id([running])
    execution.last_known_state = execution.RUNNING
    db.put_executions([execution])
    named = {"examples": examples, "anomalies": anomalies, "model_1": model_1}
    named |= {"blessing": blessing, "pushed": pushed, "examples_2": examples_2}
    named |= {"model_2": model_2, "model_3": model_3}
    return {name: artifact.id for name, artifact in named.items()}


def test_what_stays_and_why(tmp_path):
    db = create_store(str(tmp_path / "metadata.sqlite"))
    ids = _history(db, tmp_path)
    served = {ids["model_1"]}
    plan = plan_retention(db, registry.Scope("", "p"), 1, served, str(tmp_path / "pipeline_root"))
    removed = {removal.artifact.id for removal in plan.remove}
    # Served (and its lineage), the newest blessed (the baseline), what a running Trainer uses.
    assert plan.kept[ids["model_1"]] == "a version in the serving directory holds it"
    assert plan.kept[ids["model_2"]] == "the baseline"
    assert ids["examples"] in plan.kept and ids["examples_2"] in plan.kept
    assert plan.kept[ids["model_3"]].endswith("is still running")
    # Records always stay; what is in no one's lineage goes.
    assert ids["blessing"] not in removed and ids["pushed"] not in removed
    assert removed == {ids["anomalies"]}
    assert plan.runs_to_forget == set()  # TFX's cache needs no forgetting: it honours DELETED
    with pytest.raises(ValueError, match="at least 1"):
        plan_retention(db, registry.Scope("", "p"), 0, served, str(tmp_path))


def test_only_the_namespaces_own_runs_are_collected(tmp_path):
    """One KFP store, two teams with the same pipeline name: each collects its own."""
    db = create_store(str(tmp_path / "metadata.sqlite"))
    team_a = _history(db, tmp_path / "a", KFP, "team-a")
    team_b = _history(db, tmp_path / "b", KFP, "team-b")
    plan = plan_retention(
        db, registry.Scope("team-a", "p"), 1, {team_a["model_1"]}, str(tmp_path / "a")
    )
    assert {r.artifact.id for r in plan.remove} == {team_a["anomalies"]}
    assert not set(team_b.values()) & ({r.artifact.id for r in plan.remove} | set(plan.kept))


def test_files_outside_the_pipeline_root_are_left_alone(tmp_path):
    db = create_store(str(tmp_path / "metadata.sqlite"))
    ids = _history(db, tmp_path / "elsewhere")
    plan = plan_retention(
        db, registry.Scope("", "p"), 1, {ids["model_1"]}, str(tmp_path / "mine" / "pipeline_root")
    )
    assert plan.remove == [] and [a.id for a in plan.outside_root] == [ids["anomalies"]]


def test_a_collection_in_a_bucket_goes_through_tensorflows_file_systems(tmp_path):
    """TensorFlow's in-memory ram:// file system stands in for gs://: the same gfile calls."""
    import tensorflow as tf

    from core.config import PipelineConfig
    from pipeline import gc

    bucket = "ram://gc-bucket/image-transfer"
    config = PipelineConfig.for_profile("sample", output_dir=bucket, pipeline_name="p")
    db = create_store(str(tmp_path / "metadata.sqlite"))
    recorder = Recorder(db, TFX, "p", "run-1")
    uris = {}
    for name in ("examples", "anomalies"):
        uris[name] = f"{config.pipeline_root}/{name}"
        tf.io.gfile.makedirs(uris[name])
        with tf.io.gfile.GFile(f"{uris[name]}/data", "w") as f:
            f.write("x" * 500)
    examples = recorder.artifact("Examples", uris["examples"])
    recorder.execution("TfdsExampleGen", outputs={"examples": examples})
    anomalies = recorder.artifact("ExampleAnomalies", uris["anomalies"])
    recorder.execution("ExampleValidator", inputs={"e": examples}, outputs={"a": anomalies})
    scope = registry.Scope("", "p")

    dry = gc.collect(db, config, scope, keep=1, dry_run=True)
    assert [r.artifact.uri for r in dry.plan.remove] == [uris["examples"], uris["anomalies"]]
    assert dry.total_bytes == 1000 and tf.io.gfile.exists(uris["anomalies"])
    collection = gc.collect(db, config, scope, keep=1, dry_run=False)
    assert collection.total_bytes == 1000
    assert not tf.io.gfile.exists(uris["examples"]) and not tf.io.gfile.exists(uris["anomalies"])
    assert {a.state for a in db.get_artifacts()} == {store.Artifact.DELETED}
