"""The compiled Kubeflow pipeline, replayed offline as the newest KFP release runs it.

`tests/kubeflow/kfp_replay.py` plays KFP's driver, launcher and cache (ported from the
Go backend at the release tags of `kfp_releases.NEWEST`) and Argo's retry decision,
against a real ML Metadata store served over gRPC, and runs each task's exact container
command. Two teams, in the namespaces `team-a` and `team-b` of one Kubeflow, run the
same pipeline (same name, the same dataset, each in its own bucket) with their own
serving volumes; one store, one KFP API server (one cache table). The history replayed,
as many runs at once as the history allows (KFP lets runs overlap; here it also halves
the wall time on 2 cores):

1. at the same time:
   - `before-1`: the baseline lookup of the YAML as it would be with caching on for
     every task, on an empty store: nothing blessed;
   - `a-1`: team A's first run: blesses and pushes A's version 1;
   - `b-1`: team B's first run, whose Trainer pod is evicted after an epoch (Argo:
     phase Failed, which the newest release's OnError policy does not retry);
2. at the same time:
   - `b-1-resumed`: what `python -m kubeflow resume b-1` starts: a new run of B's
     version; everything before the Trainer is a cache hit, the Trainer resumes at the
     next epoch from its backup, B's model is blessed and pushed;
   - `a-2`: a worse Trainer (what a code change could do): finds A's run 1 model as
     baseline (not B's), is refused by the change threshold;
   - `a-3`: run 1's YAML again with nothing changed but the baseline (run 1's model
     is blessed now): no training; the Evaluator judges the cached model against its
     own blessed copy and it is recognised as already serving;
3. at the same time, team B and team A:
   - a shard of B's data is rewritten; `b-2`: team B's next run executes everything and
     finds B's resumed model as its baseline;
   - one after the other:
     - at the same time, `a-4`: the schedule's next run, nothing changed at all: only
       the two look-ups run; and `before-2`: the all-cached YAML's lookup again, served
       from the cache: it still answers "no baseline" although models are blessed (what
       froze schedules before);
     - `python -m kubeflow gc --keep 1` for team A (a subprocess, against a stand-in of
       the KFP API, whose run deletions the cache table then follows): a-2's worse model
       goes, and the runs whose cache entries held removed files are deleted; team B's
       running run is another namespace's and untouched;
     - `a-5`, a-2's YAML again, trains again and reuses everything before the Trainer.

Sample profile with random weights, no fine-tuning, value threshold 0 (what is under
test is the orchestration, not the accuracy); local directories stand in for the
buckets and the serving volumes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from core import artifact_properties as properties
from core.config import PipelineConfig
from core.metadata import models as registry
from core.metadata import store
from core.serving_layout import versions
from kubeflow.compile import UNCACHED_TASKS, write_pipeline_yaml
from pipeline.cli import main as pipeline_main
from pipeline.evaluation import metrics_by_slice
from tests.conftest import REPO_ROOT
from tests.interrupted_runs import backup_of_epoch
from tests.kubeflow.kfp_api_stub import KfpApiStub
from tests.kubeflow.kfp_releases import NEWEST
from tests.kubeflow.kfp_replay import CacheTable, CompiledPackage, KfpReplay, PodLoss, RunResult
from tests.pipeline.mlmd_grpc_server import serve_sqlite

pytestmark = pytest.mark.kfp_replay

TASKS = {
    "DataFingerprint", "BaselineLookup", "TfdsExampleGen", "StatisticsGen", "SchemaGen",
    "ExampleValidator", "Transform", "Trainer", "Evaluator", "ServingCheck", "Pusher",
    "RunReport",
}  # fmt: skip
LOOKUPS = set(UNCACHED_TASKS)
# The sample recipe's head stage (the one tests/conftest.py's e2e_run blesses at accuracy
# >= 0.7; fine-tuning would add a minute and nothing to orchestrate), with the value
# threshold at 0 so that only the change threshold can refuse a model.
REPLAY_SETTINGS = {"min_accuracy": 0.0, "trainer_gpus": 0, "fine_tune_epochs": 0}
HEAD_EPOCHS = PipelineConfig.for_profile("sample").training.head_epochs
# The e2e tests' worse model (tests/conftest.py): the head stays at its random start.
WORSE_SETTINGS = {"head_learning_rate": 1e-9, "head_epochs": 1, "fine_tune_epochs": 0}
BASELINE_LOOKUP = ("BaselineLookup",)
TEAM_A, TEAM_B = "team-a", "team-b"


@dataclass
class Team:
    namespace: str
    config: PipelineConfig
    package: str

    @property
    def serving_dir(self) -> Path:
        return Path(self.config.model_serving_dir)

    @property
    def bucket(self) -> Path:
        return Path(self.config.output_dir)


@dataclass
class Replayed:
    store_path: Path
    a: Team
    b: Team
    runs: dict[str, RunResult]
    killed_after_epoch: int  # the last epoch b-1's Trainer backed up before its pod was lost
    bucket_bytes_before_a_4: int
    bucket_bytes_after_a_4: int
    gc: subprocess.CompletedProcess  # `python -m kubeflow gc --keep 1` of team A
    forgotten_runs: set[str]  # the runs it deleted through the KFP API

    def db(self):
        return store.connect(store.Target(sqlite_path=str(self.store_path)))

    def __getitem__(self, run_id: str) -> RunResult:
        return self.runs[run_id]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, sample_data_dir) -> Replayed:
    root = tmp_path_factory.mktemp("kfp_replay")
    store_path = root / "mlmd.sqlite"
    server, port = serve_sqlite(str(store_path))
    teams = {}
    for namespace in (TEAM_A, TEAM_B):
        data_dir = root / namespace / "tfds"  # each team's copy: step 3 rewrites B's shard
        shutil.copytree(sample_data_dir, data_dir)
        config = PipelineConfig.for_profile(
            "sample",
            output_dir=str(root / namespace / "bucket"),
            data_dir=str(data_dir),
            serving_dir=str(root / namespace / "serving"),
            serving_pvc=f"{namespace}-models",
            kfp_mlmd_host="localhost",  # the pods' view of metadata-grpc-service
            kfp_mlmd_port=port,
            **REPLAY_SETTINGS,
        )
        package = write_pipeline_yaml(config, str(root / namespace / "pipeline.yaml"))
        teams[namespace] = Team(namespace, config, package)
    a, b = teams[TEAM_A], teams[TEAM_B]
    worse = write_pipeline_yaml(a.config.replace(**WORSE_SETTINGS), str(root / "worse.yaml"))
    before = _cached_everywhere(a.package, root / "before.yaml")
    workdir = root / "replay"  # one cache table for all runs, like one KFP API server

    def replay(package: str, namespace: str, run_id: str, **options) -> Callable[[], RunResult]:
        return lambda: KfpReplay(package, port, workdir, namespace=namespace).run(run_id, **options)

    evicted = PodLoss("Trainer", lambda: backup_of_epoch(b.bucket, 1), phase="Failed")
    try:
        runs = {}
        runs["before-1"], runs["a-1"], runs["b-1"] = _at_once(
            replay(before, TEAM_A, "before-1", only=BASELINE_LOOKUP),
            replay(a.package, TEAM_A, "a-1"),
            replay(b.package, TEAM_B, "b-1", lose=evicted),
        )
        killed_after = _last_backed_up_epoch(b.bucket)
        # `python -m kubeflow resume b-1`: a new run of the same version (test_client.py).
        runs["b-1-resumed"], runs["a-2"], runs["a-3"] = _at_once(
            replay(b.package, TEAM_B, "b-1-resumed"),
            replay(worse, TEAM_A, "a-2"),
            replay(a.package, TEAM_A, "a-3"),
        )
        _rewrite_a_shard(Path(b.config.data_dir))

        def team_a_schedule_then_gc() -> dict:
            bytes_before = _size(a.bucket)
            a_4, before_2 = _at_once(
                replay(a.package, TEAM_A, "a-4"),
                replay(before, TEAM_A, "before-2", only=BASELINE_LOOKUP),
            )
            bytes_after = _size(a.bucket)
            gc, forgotten = _collect(a, port)
            CacheTable(workdir / "cache_table.json").forget_runs(forgotten)  # what KFP does
            a_5 = replay(worse, TEAM_A, "a-5")()
            return {
                "runs": {"a-4": a_4, "before-2": before_2, "a-5": a_5},
                "bytes": (bytes_before, bytes_after),
                "gc": (gc, forgotten),
            }

        runs["b-2"], team_a = _at_once(replay(b.package, TEAM_B, "b-2"), team_a_schedule_then_gc)
        runs.update(team_a["runs"])
        bytes_before, bytes_after = team_a["bytes"]
        gc, forgotten = team_a["gc"]
    finally:
        server.stop(None)
    return Replayed(store_path, a, b, runs, killed_after, bytes_before, bytes_after, gc, forgotten)


def _collect(team: Team, mlmd_port: int) -> tuple[subprocess.CompletedProcess, set[str]]:
    """`python -m kubeflow gc --keep 1` as a person at a port-forward types it, against a
    recording stand-in of the KFP API (which runs it deleted is what it sent)."""
    with KfpApiStub() as api:
        process = subprocess.run(
            [
                sys.executable, "-m", "kubeflow", "gc", "--profile", "sample", "--keep", "1",
                "--mlmd-host", "localhost", "--mlmd-port", str(mlmd_port),
                "--kfp-namespace", team.namespace, "--kfp-host", api.url,
                "--output-dir", team.config.runner.output_dir,
                "--serving-dir", team.config.runner.serving_dir,
            ],
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )  # fmt: skip
        deleted = {path.rsplit("/", 1)[1] for method, path in api.calls() if method == "DELETE"}
    assert process.returncode == 0, process.stdout + process.stderr
    return process, deleted


def _at_once(*replays: Callable[[], Any]) -> list[Any]:
    """Runs the replays (or schedules of them) concurrently; their results in the order given."""
    with ThreadPoolExecutor(max_workers=len(replays)) as pool:
        return [future.result() for future in [pool.submit(replay) for replay in replays]]


def _cached_everywhere(package: str, path: Path) -> str:
    """The package as it would be with caching on for every task (the look-ups too)."""
    documents = list(yaml.safe_load_all(Path(package).read_text()))
    for task in documents[0]["root"]["dag"]["tasks"].values():
        task["cachingOptions"] = {"enableCache": True}
    path.write_text(yaml.safe_dump_all(documents))
    return str(path)


def _last_backed_up_epoch(bucket: Path) -> int:
    epochs = [n for n in range(1, HEAD_EPOCHS + 1) if backup_of_epoch(bucket, n)]
    return max(epochs, default=0)


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _rewrite_a_shard(data_dir: Path) -> None:
    """The same bytes written again in place: a new modification time, as a re-preparation."""
    (shard,) = data_dir.glob("cats_vs_dogs_sample/*/cats_vs_dogs_sample-train.tfrecord-*")
    shard.write_bytes(shard.read_bytes())
    stat = shard.stat()
    os.utime(shard, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _output(run: RunResult, task: str, key: str):
    return run.tasks[task].outputs[key]


def _baseline_of(run: RunResult) -> dict | None:
    """The baseline the run's Evaluator was given (BaselineLookup's answer), None for none."""
    found = run.tasks["Evaluator"].executor_input.inputs.parameter_values["baseline"]
    return json.loads(found.string_value) if found.string_value else None


def _accuracies(replayed: Replayed) -> dict[str, dict]:
    """Each run's overall test metrics, for the message of a failed threshold assertion."""
    return {
        run_id: metrics_by_slice(_output(replayed[run_id], "Evaluator", "evaluation").uri).get(
            "overall"
        )
        for run_id in ("a-1", "a-2")
    }


def _models(replayed: Replayed, *flags: str) -> tuple[int, list[dict], str]:
    """`python -m pipeline models list --json` over gRPC, as a person at a port-forward runs it."""
    server, port = serve_sqlite(str(replayed.store_path))
    try:
        import contextlib
        import io

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = pipeline_main(
                ["models", "list", "--json", "--mlmd-host", "localhost", "--mlmd-port", str(port)]
                + list(flags)
            )
    finally:
        server.stop(None)
    return code, json.loads(out.getvalue()) if code == 0 else [], err.getvalue()


# ---- run a-1: what KFP's launcher leaves in ML Metadata ----


def test_run_1_runs_every_task_blesses_and_pushes_version_1(replayed):
    run_1 = replayed["a-1"]
    assert run_1.executed() == TASKS
    blessing = _output(run_1, "Evaluator", "blessing")
    pushed = _output(run_1, "Pusher", "pushed_model")
    # The launcher turns every JSON number of TFX's output metadata into a double.
    assert blessing.custom_properties[properties.BLESSED].WhichOneof("value") == "double_value"
    assert store.int_property(blessing, properties.BLESSED) == 1
    assert store.int_property(pushed, properties.PUSHED) == 1
    assert store.string_property(pushed, properties.PUSHED_VERSION) == "1"
    published = store.string_property(pushed, properties.PUSHED_DESTINATION)
    assert published == str(replayed.a.serving_dir / "1")
    assert os.path.isfile(os.path.join(published, "saved_model.pb"))


def test_metadata_has_kfp_type_names_contexts_and_event_keys(replayed):
    db = replayed.db()
    assert {c.type for c in db.get_contexts()} == {"system.Pipeline", "system.PipelineRun"}
    artifact_types = {t.name for t in db.get_artifact_types()}
    assert {"tfx.Examples", "tfx.Model", "tfx.ModelBlessing", "tfx.PushedModel"} <= artifact_types
    assert "system.Artifact" in artifact_types  # each task's executor-logs
    execution_types = {t.name for t in db.get_execution_types()}
    assert execution_types == {"system.DAGExecution", "system.ContainerExecution"}
    trainer = replayed["a-1"].tasks["Trainer"]
    events = db.get_events_by_execution_ids([trainer.execution_id])
    inputs = {store.event_key(e) for e in events if store.is_input(e)}
    outputs = {store.event_key(e) for e in events if store.is_output(e)}
    assert inputs == {"examples", "transform_graph", "schema"}
    assert outputs == {"model", "model_run", "executor-logs"}


def test_every_task_gets_the_drivers_executor_logs_output_and_its_log_is_recorded(replayed):
    """KFP >= 2.5.0: every container task's ExecutorInput has `executor-logs` (type
    system.Artifact); our entrypoint leaves it to the launcher, which uploads the log.
    (Team B's run: team A's old logs are collected by the gc step.)"""
    run = replayed["b-1-resumed"]
    for name in run.executed():
        task = run.tasks[name]
        (logs,) = task.executor_input.outputs.artifacts["executor-logs"].artifacts
        assert logs.type.schema_title == "system.Artifact"
        assert logs.uri.endswith("/executor-logs-0")  # 2.16.1+: one log per retry
        recorded = task.outputs["executor-logs"]
        assert recorded.uri == logs.uri and os.path.isfile(recorded.uri), name
        assert "executor-logs (left to the KFP launcher)" in Path(recorded.uri).read_text()


def test_the_launcher_names_the_pod_and_the_root_dag_never_completes(replayed):
    db = replayed.db()
    (trainer,) = db.get_executions_by_id([replayed["a-1"].tasks["Trainer"].execution_id])
    assert store.string_property(trainer, "namespace") == TEAM_A
    assert store.string_property(trainer, "pod_name").startswith("a-1-trainer-")
    assert store.string_property(trainer, "image") == ""  # nothing ever fills it
    # 2.17.0 skips DAGs without `total_dag_tasks` (the root has none): RUNNING for ever.
    assert replayed["a-1"].root_dag_state == "RUNNING"


def test_upstream_artifacts_arrive_as_the_driver_hands_them_and_are_repaired(replayed):
    statistics = replayed["a-1"].tasks["StatisticsGen"]
    (examples,) = statistics.executor_input.inputs.artifacts["examples"].artifacts
    example_gen_output = _output(replayed["a-1"], "TfdsExampleGen", "examples")
    assert examples.name == str(example_gen_output.id)  # the MLMD id, as KFP names inputs
    assert examples.type.instance_schema == ""  # KFP does not hand the type over
    assert sorted(json.loads(examples.metadata["split_names"])) == ["eval", "test", "train"]
    # Our entrypoint restores the declared type before TFX builds the artifact.
    assert "repaired input artifact examples: type" in statistics.log.read_text()


def test_outputs_live_under_the_run_root_in_a_directory_per_task(replayed):
    model = _output(replayed["a-1"], "Trainer", "model")
    run_root = f"{replayed.a.config.pipeline_root}/image-transfer-learning/a-1/Trainer/"
    assert model.uri.startswith(run_root) and model.uri.endswith("/model")
    assert os.path.isdir(os.path.join(model.uri, "Format-Serving"))
    # 2.15.0+: the executor output file sits in the task root (on GCS: /gcs/...).
    output_file = replayed["a-1"].tasks["Trainer"].executor_input.outputs.output_file
    assert output_file.startswith(run_root) and os.path.isfile(output_file)


# ---- b-1 and its resumption: a Trainer pod lost without a retry ----


def test_b_1s_trainer_pod_was_lost_after_an_epoch_and_argo_did_not_retry_it(replayed):
    b_1 = replayed["b-1"]
    trainer = b_1.tasks["Trainer"]
    assert (b_1.failed_task, trainer.state, trainer.attempts) == ("Trainer", "LOST", 1)
    assert 1 <= replayed.killed_after_epoch < HEAD_EPOCHS
    # The compiled retry policy is there; Argo's OnError (KFP 2.17.0's manifests) does not
    # retry a pod that failed with a message.
    retry_policy = CompiledPackage.load(replayed.b.package).retry_policy("Trainer")
    assert retry_policy["maxRetryCount"] == replayed.b.config.kubeflow.trainer_retries
    # The launcher died with the pod: the execution stays RUNNING, with no outputs.
    (execution,) = replayed.db().get_executions_by_id([trainer.execution_id])
    assert store.execution_state(execution) == "running"
    # Argo started no more
    assert not {"Evaluator", "ServingCheck", "Pusher", "RunReport"} & set(b_1.tasks)


def test_the_resumed_run_reuses_everything_before_the_trainer_which_resumes(replayed):
    resumed = replayed["b-1-resumed"]
    assert {"TfdsExampleGen", "StatisticsGen", "SchemaGen", "Transform"} <= resumed.cached()
    after = {"Trainer", "Evaluator", "ServingCheck", "Pusher", "RunReport"}
    assert resumed.executed() == LOOKUPS | after
    log = resumed.tasks["Trainer"].log.read_text()
    assert f"resuming at epoch {replayed.killed_after_epoch + 1}/{HEAD_EPOCHS} (head stage)" in log
    pushed = _output(resumed, "Pusher", "pushed_model")
    assert store.int_property(pushed, properties.PUSHED) == 1
    assert store.string_property(pushed, properties.PUSHED_VERSION) == "1"


# ---- a-2 and a-3: the next runs of team A look at the data and the baseline again ----


def test_team_as_runs_find_team_as_model_not_team_bs_newer_one(replayed):
    good_model = _output(replayed["a-1"], "Trainer", "model")
    b_model = _output(replayed["b-1-resumed"], "Trainer", "model")
    assert b_model.create_time_since_epoch > good_model.create_time_since_epoch
    assert _baseline_of(replayed["a-1"]) is None  # nothing blessed yet: value threshold only
    for run_id in ("a-2", "a-3"):
        baseline = _baseline_of(replayed[run_id])
        assert (baseline["model_id"], baseline["uri"]) == (good_model.id, good_model.uri)


def test_run_2_the_change_threshold_refuses_a_worse_model(replayed):
    run_2 = replayed["a-2"]
    assert {"Trainer", "Evaluator", "Pusher"} <= run_2.executed()
    blessing = _output(run_2, "Evaluator", "blessing")
    # TFMA read the baseline where run 1's Trainer wrote it: no copy in between.
    good_model = _output(replayed["a-1"], "Trainer", "model")
    assert store.string_property(blessing, "baseline_model") == good_model.uri
    # The value threshold is 0 here: only the change threshold can refuse it.
    assert store.int_property(blessing, properties.BLESSED) == 0, _accuracies(replayed)
    assert store.int_property(_output(run_2, "Pusher", "pushed_model"), "pushed") == 0
    assert versions(str(replayed.a.serving_dir)) == [1]  # nothing new published


def test_run_3_trains_nothing_and_is_judged_against_the_new_baseline(replayed):
    run_1, run_3 = replayed["a-1"], replayed["a-3"]
    # Same data (the same fingerprint, so ExampleGen is a cache hit) and the same recipe.
    assert {"TfdsExampleGen", "Transform", "Trainer"} <= run_3.cached()
    assert run_3.executed() == LOOKUPS | {"Evaluator", "ServingCheck", "Pusher", "RunReport"}
    assert _output(run_3, "Trainer", "model").id == _output(run_1, "Trainer", "model").id
    assert store.int_property(_output(run_3, "Evaluator", "blessing"), properties.BLESSED) == 1
    pushed = _output(run_3, "Pusher", "pushed_model")
    assert store.int_property(pushed, properties.PUSHED) == 0
    assert store.int_property(pushed, properties.ALREADY_SERVING_VERSION) == 1


# ---- a-4: the schedule's next run, nothing changed: seconds, not a training ----


def test_an_unchanged_scheduled_run_executes_only_the_lookups_and_writes_almost_nothing(
    replayed,
):
    a_3, a_4 = replayed["a-3"], replayed["a-4"]
    assert a_4.executed() == LOOKUPS
    assert a_4.cached() == TASKS - LOOKUPS
    # The same artifacts as run 3's, and the same baseline: nothing new to key on.
    assert _baseline_of(a_4) == _baseline_of(a_3)
    for task, key in (("TfdsExampleGen", "examples"), ("Evaluator", "evaluation")):
        assert _output(a_4, task, key).id == _output(a_3, task, key).id
    grown = replayed.bucket_bytes_after_a_4 - replayed.bucket_bytes_before_a_4
    assert 0 < grown < 1_000_000
    print(
        f"\ntask-seconds: a-4 (unchanged) {a_4.task_seconds():.1f}, "
        f"b-2 (data changed) {replayed['b-2'].task_seconds():.1f}; a-4 wrote {grown} bytes"
    )


def test_uncached_lookups_are_never_looked_up_in_the_cache(replayed):
    for run in (replayed["a-3"], replayed["a-4"]):
        for task in UNCACHED_TASKS:
            assert run.tasks[task].fingerprint == ""


# ---- b-2: data changed, team B's baseline ----


def test_a_rewritten_shard_makes_the_next_run_execute_everything(replayed):
    b_2 = replayed["b-2"]
    assert b_2.executed() == TASKS and not b_2.cached()
    fingerprints = {
        store.string_property(_output(run, "TfdsExampleGen", "examples"), "data_fingerprint")
        for run in (replayed["b-1"], b_2)
    }
    assert len(fingerprints) == 2 and "" not in fingerprints


def test_team_bs_next_run_finds_team_bs_model(replayed):
    b_model = _output(replayed["b-1-resumed"], "Trainer", "model")
    assert _baseline_of(replayed["b-2"])["model_id"] == b_model.id


# ---- the registry, over gRPC, one namespace at a time ----


def test_models_list_over_grpc_shows_one_namespace_and_asks_which_when_several(replayed):
    code, _, error = _models(replayed)
    assert code == 2
    assert "team-a, team-b" in error and "--kfp-namespace" in error

    code, team_a, error = _models(replayed, "--kfp-namespace", TEAM_A)
    assert code == 0, error
    by_run = {model["run_id"]: model for model in team_a}
    assert set(by_run) == {"a-1", "a-2", "a-5"}  # a-3's and a-4's model is a-1's
    good, worse = by_run["a-1"], by_run["a-2"]
    assert worse["removed"] and not good["removed"]  # gc removed its files, not its record
    assert {m["namespace"] for m in team_a} == {TEAM_A}
    assert good["pipeline"] == worse["pipeline"] == "image-transfer-learning"
    assert good["profile"] == "sample"  # from the parameters KFP keeps in `inputs`
    assert (good["blessed"], worse["blessed"]) == (True, False)
    assert [(p["version"], p["action"]) for p in good["publications"]] == [(1, "push")]
    # On Kubeflow the baseline is the Evaluator's parameter, read back from KFP's `inputs`.
    assert worse["baseline_id"] == good["id"]

    code, team_b, _ = _models(replayed, "--kfp-namespace", TEAM_B)
    assert {m["run_id"] for m in team_b} == {"b-1-resumed", "b-2"}

    code, other_pipeline, _ = _models(replayed, "--kfp-namespace", TEAM_A, "--pipeline-name", "x")
    assert code == 0 and other_pipeline == []


def test_model_lineage_reads_the_parameters_kfp_recorded(replayed):
    db = replayed.db()
    good = registry.get_model(db, _output(replayed["a-1"], "Trainer", "model").id)
    lineage = registry.lineage(db, good)
    assert lineage["dataset"]["name"] == "cats_vs_dogs_sample"
    assert lineage["dataset"]["splits"]["train"] == replayed.a.config.data.train_split
    assert lineage["trainer"]["run_fn"] == "trainer_module.run.run_fn"


# ---- KFP's cache: why the look-ups must not use it ----


def test_a_cached_baseline_lookup_keeps_answering_what_it_found_first(replayed):
    first = replayed["before-1"].tasks["BaselineLookup"]
    again = replayed["before-2"].tasks["BaselineLookup"]
    assert (first.state, again.state) == ("COMPLETE", "CACHED")
    assert again.fingerprint == first.fingerprint
    assert _output(replayed["before-2"], "BaselineLookup", "baseline").id == (
        first.outputs["baseline"].id
    )
    # Models are blessed by now, yet the cached answer (its output parameter) is still "".
    (execution,) = replayed.db().get_executions_by_id([again.execution_id])
    outputs = execution.custom_properties["outputs"].struct_value
    assert outputs["baseline"] == ""


def test_cached_tasks_fingerprint_their_inputs_by_mlmd_id(replayed):
    statistics = [replayed[run].tasks["StatisticsGen"] for run in ("a-1", "b-2")]
    assert all(t.fingerprint for t in statistics)
    assert statistics[0].fingerprint != statistics[1].fingerprint  # new examples, new key


# ---- gc of team A's runs, on Kubeflow ----


def test_gc_removes_the_worse_model_and_deletes_the_runs_whose_cache_held_removed_files(
    replayed,
):
    worse = _output(replayed["a-2"], "Trainer", "model")
    good = _output(replayed["a-1"], "Trainer", "model")
    assert "namespace team-a, pipeline image-transfer-learning:" in replayed.gc.stdout
    assert f"removed tfx.Model {worse.id}: {worse.uri}" in replayed.gc.stdout
    assert not os.path.exists(worse.uri)
    (record,) = replayed.db().get_artifacts_by_id([worse.id])
    assert record.state == store.Artifact.DELETED
    # Served, so kept with its lineage; a-1's run stays whole in KFP: its cache entries
    # hold the kept files, and deleting it would make KFP recompute them.
    assert os.path.isdir(os.path.join(good.uri, "Format-Serving"))
    assert "a-2" in replayed.forgotten_runs and "a-1" not in replayed.forgotten_runs
    assert not {run for run in replayed.forgotten_runs if run.startswith("b-")}  # team B's


def test_after_gc_a_rerun_recomputes_what_was_removed_and_reuses_what_was_kept(replayed):
    a_5 = replayed["a-5"]
    assert {"TfdsExampleGen", "StatisticsGen", "SchemaGen", "Transform"} <= a_5.cached()
    assert "Trainer" in a_5.executed()
    assert _output(a_5, "Trainer", "model").id != _output(replayed["a-2"], "Trainer", "model").id


def test_a_removed_model_cannot_be_promoted_and_a_kept_one_can(replayed, capsys):
    worse = _output(replayed["a-2"], "Trainer", "model").id
    good = _output(replayed["a-1"], "Trainer", "model").id
    server, port = serve_sqlite(str(replayed.store_path))
    common = ["--mlmd-host", "localhost", "--mlmd-port", str(port), "--kfp-namespace", TEAM_A]
    common += ["--serving-dir", replayed.a.config.serving_dir, "--force", "--reason", "check"]
    try:
        assert pipeline_main(["models", "promote", str(worse), *common]) == 2
        assert f"model {worse} was removed by `gc`" in capsys.readouterr().err
        assert pipeline_main(["models", "promote", str(good), *common]) == 0
        assert "is version 2" in capsys.readouterr().out
    finally:
        server.stop(None)


# ---- last, because it publishes: promotion and rollback on KFP-shaped metadata ----


def test_promote_and_rollback_follow_the_pipelines_pushes_on_kfp_metadata(replayed, capsys):
    resumed = _output(replayed["b-1-resumed"], "Trainer", "model").id
    newer = _output(replayed["b-2"], "Trainer", "model").id
    team_a_model = _output(replayed["a-1"], "Trainer", "model").id
    server, port = serve_sqlite(str(replayed.store_path))
    common = ["--mlmd-host", "localhost", "--mlmd-port", str(port), "--kfp-namespace", TEAM_B]
    common += ["--serving-dir", replayed.b.config.serving_dir]
    try:
        # Another team's model is not team B's to promote.
        assert pipeline_main(["models", "promote", str(team_a_model), *common]) == 2
        assert f"model {team_a_model} belongs to namespace {TEAM_A}" in capsys.readouterr().err
        for step in (
            ["rollback"],  # back to the resumed run's model
            ["promote", str(newer), "--reason", "the newer data"],
        ):
            assert pipeline_main(["models", *step, *common]) == 0, capsys.readouterr().err
    finally:
        server.stop(None)
    history = registry.publication_history(
        replayed.db(), str(replayed.b.serving_dir), registry.Scope(TEAM_B)
    )
    assert [(p.version, record.id, p.action) for record, p in history] == [
        (1, resumed, "push"),
        (2, newer, "push"),
        (3, resumed, "rollback"),
        (4, newer, "promote"),
    ]


def test_the_replay_is_the_newest_release():
    assert NEWEST.name == "2.17" and "2.17.0" in NEWEST.tags
