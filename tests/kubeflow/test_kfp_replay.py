"""The compiled Kubeflow pipeline, replayed offline as KFP's backend would run it, three times.

`tests/kubeflow/kfp_replay.py` plays KFP's driver, launcher and cache (ported from
the Go backend) against a real ML Metadata store served over gRPC, and runs each
task's exact container command. The history replayed here, in one store:

- `before-1`, while run 1 starts: the baseline lookup of the YAML as it was
  compiled before (caching on for every task), on an empty store: nothing blessed.
- `run-1`: the YAML as compiled now; blesses and pushes version 1.
- `run-2`: the same pipeline with a worse Trainer (what a code change could do):
  the data and the baseline are looked at again, run 1's model is the baseline,
  the change threshold refuses the new model and nothing is published.
- `run-3`, at the same time as run 2: run 1's YAML again with nothing changed, as
  a schedule starts it: the data and the baseline are looked at again, the model
  is retrained (other bytes), blessed against run 1's, and recognised as already
  serving by its training identity: nothing new is published.
- `before-2`, after both: the old YAML's baseline lookup again: served from KFP's
  cache, it still answers "no baseline" although run 1's model is blessed; this is
  what froze schedules before.

Sample profile with random weights, no fine-tuning, value threshold 0 (what is
under test is the orchestration, not the accuracy); a local directory stands in
for the bucket and for the serving volume.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from core import artifact_properties as properties
from core.config import PipelineConfig
from core.metadata import models as registry
from core.metadata import store
from core.serving_layout import content_digest
from kubeflow.compile import UNCACHED_TASKS, write_pipeline_yaml
from pipeline.cli import main as pipeline_main
from pipeline.evaluation import metrics_by_slice
from tests.kubeflow.kfp_replay import (
    CompiledPackage,
    KfpReplay,
    RunResult,
    cache_key,
    fingerprint_of,
)
from tests.pipeline.mlmd_grpc_server import serve_sqlite

pytestmark = pytest.mark.kfp_replay

TASKS = {
    "TfdsExampleGen", "LatestBlessedModel", "StatisticsGen", "SchemaGen", "ExampleValidator",
    "Transform", "Trainer", "Evaluator", "Pusher", "RunReport",
}  # fmt: skip
# The sample recipe's head stage (the one tests/conftest.py's e2e_run blesses at accuracy
# >= 0.7; fine-tuning would add a minute and nothing to orchestrate), with the value
# threshold at 0 so that only the change threshold can refuse a model.
REPLAY_SETTINGS = {"min_accuracy": 0.0, "trainer_gpus": 0, "fine_tune_epochs": 0}
# The head stays at its random initialisation, so the model guesses (tests/conftest.py).
# The e2e tests' worse model (tests/conftest.py): the head stays at its random start.
WORSE_SETTINGS = {"head_learning_rate": 1e-9, "head_epochs": 1, "fine_tune_epochs": 0}
BASELINE_LOOKUP = ("LatestBlessedModel",)


@dataclass
class Replayed:
    config: PipelineConfig
    store_path: Path
    port: int
    package: CompiledPackage
    before_1: RunResult
    run_1: RunResult
    run_2: RunResult
    before_2: RunResult
    run_3: RunResult

    def db(self):
        return store.connect(store.Target(sqlite_path=str(self.store_path)))

    @property
    def serving_dir(self) -> Path:
        return Path(self.config.model_serving_dir)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, sample_data_dir) -> Replayed:
    root = tmp_path_factory.mktemp("kfp_replay")
    store_path = root / "mlmd.sqlite"
    server, port = serve_sqlite(str(store_path))
    config = PipelineConfig.for_profile(
        "sample",
        output_dir=str(root / "bucket"),
        data_dir=sample_data_dir,
        serving_dir=str(root / "serving"),
        serving_pvc="replay-models",
        kfp_mlmd_host="localhost",  # the pods' view of metadata-grpc-service
        kfp_mlmd_port=port,
        **REPLAY_SETTINGS,
    )
    package = write_pipeline_yaml(config, str(root / "pipeline.yaml"))
    worse = write_pipeline_yaml(config.replace(**WORSE_SETTINGS), str(root / "worse.yaml"))
    before = _cached_everywhere(package, root / "before.yaml")
    workdir = root / "replay"  # one cache table for all packages, like one KFP API server
    try:
        # Runs that overlap, as KFP lets runs of one pipeline do. before-1's lookup is over
        # long before run 1 blesses its model (its Evaluator is the last task but two).
        before_1, run_1 = _at_once(
            lambda: KfpReplay(before, port, workdir).run("before-1", only=BASELINE_LOOKUP),
            lambda: KfpReplay(package, port, workdir).run("run-1"),
        )
        # A changed Trainer submitted while the schedule starts its next run: both baseline
        # lookups are their runs' first tasks, done long before run 3 blesses its model (run
        # 2's is refused), so both find run 1's.
        run_2, run_3 = _at_once(
            lambda: KfpReplay(worse, port, workdir).run("run-2"),
            lambda: KfpReplay(package, port, workdir).run("run-3"),
        )
        before_2 = KfpReplay(before, port, workdir).run("before-2", only=BASELINE_LOOKUP)
    finally:
        server.stop(None)
    return Replayed(
        config,
        store_path,
        port,
        CompiledPackage.load(package),
        before_1,
        run_1,
        run_2,
        before_2,
        run_3,
    )


def _at_once(*replays: Callable[[], RunResult]) -> list[RunResult]:
    """Runs the replays concurrently; their results in the order given."""
    with ThreadPoolExecutor(max_workers=len(replays)) as pool:
        return [future.result() for future in [pool.submit(replay) for replay in replays]]


def _cached_everywhere(package: str, path: Path) -> str:
    """The package as the compiler wrote it before: caching on for every task."""
    documents = list(yaml.safe_load_all(Path(package).read_text()))
    for task in documents[0]["root"]["dag"]["tasks"].values():
        task["cachingOptions"] = {"enableCache": True}
    path.write_text(yaml.safe_dump_all(documents))
    return str(path)


def _output(run: RunResult, task: str, key: str):
    return run.tasks[task].outputs[key]


def _accuracies(replayed: Replayed) -> dict[str, dict]:
    """Each run's overall test metrics, for the message of a failed threshold assertion."""
    return {
        run.run_id: metrics_by_slice(_output(run, "Evaluator", "evaluation").uri).get("overall")
        for run in (replayed.run_1, replayed.run_2)
    }


# ---- run 1: what KFP's launcher leaves in ML Metadata ----


def test_run_1_runs_every_task_blesses_and_pushes_version_1(replayed):
    assert replayed.run_1.executed() == TASKS
    blessing = _output(replayed.run_1, "Evaluator", "blessing")
    pushed = _output(replayed.run_1, "Pusher", "pushed_model")
    # The launcher turns every JSON number of TFX's output metadata into a double.
    assert blessing.custom_properties[properties.BLESSED].WhichOneof("value") == "double_value"
    assert store.int_property(blessing, properties.BLESSED) == 1
    assert store.int_property(pushed, properties.PUSHED) == 1
    assert store.string_property(pushed, properties.PUSHED_VERSION) == "1"
    published = store.string_property(pushed, properties.PUSHED_DESTINATION)
    assert published == str(replayed.serving_dir / "1")
    assert os.path.isfile(os.path.join(published, "saved_model.pb"))


def test_metadata_has_kfp_type_names_contexts_and_event_keys(replayed):
    db = replayed.db()
    assert {c.type for c in db.get_contexts()} == {"system.Pipeline", "system.PipelineRun"}
    artifact_types = {t.name for t in db.get_artifact_types()}
    assert {"tfx.Examples", "tfx.Model", "tfx.ModelBlessing", "tfx.PushedModel"} <= artifact_types
    execution_types = {t.name for t in db.get_execution_types()}
    assert execution_types == {"system.DAGExecution", "system.ContainerExecution"}
    trainer = replayed.run_1.tasks["Trainer"]
    events = db.get_events_by_execution_ids([trainer.execution_id])
    inputs = {store.event_key(e) for e in events if store.is_input(e)}
    outputs = {store.event_key(e) for e in events if store.is_output(e)}
    assert (inputs, outputs) == ({"examples", "transform_graph", "schema"}, {"model", "model_run"})


def test_upstream_artifacts_arrive_as_the_driver_hands_them_and_are_repaired(replayed):
    statistics = replayed.run_1.tasks["StatisticsGen"]
    (examples,) = statistics.executor_input.inputs.artifacts["examples"].artifacts
    example_gen_output = _output(replayed.run_1, "TfdsExampleGen", "examples")
    assert examples.name == str(example_gen_output.id)  # the MLMD id, as KFP names inputs
    assert examples.type.instance_schema == ""  # KFP does not hand the type over
    assert sorted(json.loads(examples.metadata["split_names"])) == ["eval", "test", "train"]
    # Our entrypoint restores the declared type before TFX builds the artifact.
    assert "repaired input artifact examples: type" in statistics.log.read_text()


def test_outputs_live_under_the_run_root_in_a_directory_per_task(replayed):
    model = _output(replayed.run_1, "Trainer", "model")
    run_root = f"{replayed.config.pipeline_root}/image-transfer-learning/run-1/Trainer/"
    assert model.uri.startswith(run_root) and model.uri.endswith("/model")
    assert os.path.isdir(os.path.join(model.uri, "Format-Serving"))


# ---- run 2: a scheduled run looks at the data and the baseline again ----


def test_run_2_rechecks_data_and_baseline_instead_of_reusing_run_1(replayed):
    run_2 = replayed.run_2
    assert run_2.executed() == TASKS and not run_2.cached()
    new_examples = _output(run_2, "TfdsExampleGen", "examples")
    assert new_examples.id != _output(replayed.run_1, "TfdsExampleGen", "examples").id
    for task in UNCACHED_TASKS:
        assert run_2.tasks[task].fingerprint == ""  # caching off: never looked up


def test_run_2_finds_run_1s_model_and_the_change_threshold_refuses_a_worse_one(replayed):
    baseline = _output(replayed.run_2, "LatestBlessedModel", "baseline_model")
    good_model = _output(replayed.run_1, "Trainer", "model")
    assert store.int_property(baseline, properties.BASELINE_FOUND) == 1
    assert store.int_property(baseline, properties.SOURCE_MODEL_ID) == good_model.id
    blessing = _output(replayed.run_2, "Evaluator", "blessing")
    assert store.string_property(blessing, "baseline_model") == baseline.uri
    # The value threshold is 0 here: only the change threshold can refuse it.
    assert store.int_property(blessing, properties.BLESSED) == 0, _accuracies(replayed)
    assert store.int_property(_output(replayed.run_2, "Pusher", "pushed_model"), "pushed") == 0
    assert sorted(os.listdir(replayed.serving_dir)) == ["1"]  # nothing new published


# ---- run 3: the schedule's next run, nothing changed ----


def test_an_unchanged_scheduled_run_retrains_on_a_fresh_baseline_and_publishes_nothing(
    replayed,
):
    run_1, run_3 = replayed.run_1, replayed.run_3
    assert run_3.executed() == TASKS and not run_3.cached()
    # The data was looked at again: the same files, so the same fingerprint.
    fingerprints = {
        store.string_property(_output(run, "TfdsExampleGen", "examples"), "data_fingerprint")
        for run in (run_1, run_3)
    }
    assert len(fingerprints) == 1 and "" not in fingerprints
    # Not a frozen baseline: the lookup ran and found run 1's model (run 2's was refused).
    baseline = _output(run_3, "LatestBlessedModel", "baseline_model")
    good_model = _output(run_1, "Trainer", "model")
    assert store.int_property(baseline, properties.SOURCE_MODEL_ID) == good_model.id
    assert store.int_property(_output(run_3, "Evaluator", "blessing"), properties.BLESSED) == 1
    # Retrained, so not byte-identical; the training identity says it is the same model.
    assert content_digest(_serving_model(run_3)) != content_digest(_serving_model(run_1))
    pushed, first = (_output(run, "Pusher", "pushed_model") for run in (run_3, run_1))
    identity = store.string_property(first, properties.TRAINING_IDENTITY)
    assert identity and store.string_property(pushed, properties.TRAINING_IDENTITY) == identity
    assert store.int_property(pushed, properties.PUSHED) == 0
    assert store.int_property(pushed, properties.ALREADY_SERVING_VERSION) == 1
    assert sorted(os.listdir(replayed.serving_dir)) == ["1"]


def _serving_model(run: RunResult) -> str:
    return os.path.join(_output(run, "Trainer", "model").uri, "Format-Serving")


def test_models_list_reads_kfp_shaped_metadata_over_grpc(replayed, capsys):
    server, port = serve_sqlite(str(replayed.store_path))
    try:
        code = pipeline_main(
            ["models", "list", "--json", "--mlmd-host", "localhost", "--mlmd-port", str(port)]
        )
        out, err = capsys.readouterr()
    finally:
        server.stop(None)
    assert code == 0, err
    good, worse, again = sorted(json.loads(out), key=lambda model: model["run_id"])
    assert (good["run_id"], worse["run_id"], again["run_id"]) == ("run-1", "run-2", "run-3")
    assert good["pipeline"] == worse["pipeline"] == "image-transfer-learning"
    assert good["profile"] == "sample"  # from the parameters KFP keeps in `inputs`
    assert (good["blessed"], worse["blessed"]) == (True, False)
    assert [(p["version"], p["action"]) for p in good["publications"]] == [(1, "push")]
    assert worse["publications"] == []
    assert again["blessed"] and again["publications"] == []  # already serving: no second one
    # On Kubeflow the baseline is LatestBlessedModel's copy, which names its source.
    (baseline,) = replayed.db().get_artifacts_by_id([worse["baseline_id"]])
    assert store.int_property(baseline, properties.SOURCE_MODEL_ID) == good["id"]


def test_model_lineage_reads_the_parameters_kfp_recorded(replayed):
    db = replayed.db()
    good = registry.get_model(db, _output(replayed.run_1, "Trainer", "model").id)
    lineage = registry.lineage(db, good)
    assert lineage["dataset"]["name"] == "cats_vs_dogs_sample"
    assert lineage["dataset"]["splits"]["train"] == replayed.config.data.train_split
    assert lineage["trainer"]["run_fn"] == "trainer_module.run.run_fn"


# ---- KFP's cache: why ExampleGen and LatestBlessedModel must not use it ----


def test_a_cached_baseline_lookup_keeps_answering_what_it_found_first(replayed):
    first = replayed.before_1.tasks["LatestBlessedModel"]
    again = replayed.before_2.tasks["LatestBlessedModel"]
    assert (first.state, again.state) == ("COMPLETE", "CACHED")
    assert again.fingerprint == first.fingerprint
    (frozen,) = again.outputs.values()
    assert frozen.id == first.outputs["baseline_model"].id
    # Run 1's model is blessed by now, yet the cached answer is still "none".
    assert store.int_property(frozen, properties.BASELINE_FOUND) == 0


def test_cached_example_gen_would_have_made_run_2_a_copy_of_run_1(replayed):
    """Same parameters, image and command: the same key, and from there the same input ids."""
    keys = [
        fingerprint_of(
            cache_key(
                run.tasks["TfdsExampleGen"].executor_input,
                replayed.package.component("TfdsExampleGen"),
                replayed.package.executor("TfdsExampleGen").container,
                [],
            )
        )
        for run in (replayed.run_1, replayed.run_2)
    ]
    assert keys[0] == keys[1]


def test_cached_tasks_fingerprint_their_inputs_by_mlmd_id(replayed):
    statistics = [replayed.run_1.tasks["StatisticsGen"], replayed.run_2.tasks["StatisticsGen"]]
    assert all(t.fingerprint for t in statistics)
    assert statistics[0].fingerprint != statistics[1].fingerprint  # new examples, new key


# ---- last, because it publishes: promotion and rollback on KFP-shaped metadata ----


def test_promote_and_rollback_follow_the_pipelines_pushes_on_kfp_metadata(replayed, capsys):
    good = _output(replayed.run_1, "Trainer", "model").id
    worse = _output(replayed.run_2, "Trainer", "model").id
    server, port = serve_sqlite(str(replayed.store_path))
    common = ["--mlmd-host", "localhost", "--mlmd-port", str(port)]
    common += ["--to", replayed.config.serving_dir]
    try:
        for step in (
            ["promote", str(worse), "--force", "--reason", "canary"],
            ["rollback"],  # back to what the pipeline's Pusher published as version 1
        ):
            assert pipeline_main(["models", *step, *common]) == 0, capsys.readouterr().err
    finally:
        server.stop(None)
    history = registry.publication_history(replayed.db(), str(replayed.serving_dir))
    assert [(p.version, record.id, p.action) for record, p in history] == [
        (1, good, "push"),
        (2, worse, "promote"),
        (3, good, "rollback"),
    ]
