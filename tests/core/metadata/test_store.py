"""The metadata layer on real sqlite stores written as TFX's local runner and KFP write them."""

import pytest
from ml_metadata.proto import metadata_store_pb2

from core import artifact_properties as properties
from core.metadata import store
from tests.core.metadata.records import KFP, TFX, Recorder, create_store


@pytest.fixture
def db(tmp_path):
    return create_store(str(tmp_path / "metadata.sqlite"))


def test_a_missing_store_is_one_clear_error(tmp_path):
    with pytest.raises(store.MetadataError, match="run the pipeline first"):
        store.connect(store.Target(sqlite_path=str(tmp_path / "metadata.sqlite")))


def test_an_unreachable_grpc_endpoint_is_one_clear_error():
    with pytest.raises(store.MetadataError, match="cannot reach ML Metadata at localhost:1"):
        store.connect(store.Target(host="localhost", port=1))


def test_a_read_only_target_reads_but_does_not_write(tmp_path):
    path = str(tmp_path / "metadata.sqlite")
    Recorder(create_store(path), TFX, "p", "run-1").execution("Trainer")
    read_only = store.connect(store.Target(sqlite_path=path, read_only=True))
    assert [run.name for run in store.pipeline_runs(read_only, "p")] == ["run-1"]
    with pytest.raises(Exception, match="(?i)read.?only"):
        read_only.put_context_type(metadata_store_pb2.ContextType(name="another"))


@pytest.mark.parametrize("stored", [1, 1.0, "1"], ids=["int", "double", "string"])
def test_a_flag_stored_as_int_double_or_string_reads_as_1(db, stored):
    """TFX stores `blessed`/`pushed` as int; KFP's launcher re-records them as double."""
    recorder = Recorder(db, TFX, "p", "run-1")
    blessing = recorder.artifact("ModelBlessing", "/b", **{properties.BLESSED: stored})
    pushed = recorder.artifact(
        "PushedModel", "/p", **{properties.PUSHED: stored, properties.PUSHED_VERSION: stored}
    )
    recorder.execution("Evaluator", outputs={"blessing": blessing, "pushed_model": pushed})
    blessing, pushed = db.get_artifacts_by_id([blessing.id, pushed.id])
    assert store.int_property(blessing, properties.BLESSED) == 1
    assert store.int_property(pushed, properties.PUSHED) == 1
    assert store.string_property(pushed, properties.PUSHED_VERSION) == "1"


def test_absent_or_non_numeric_properties_read_as_none(db):
    recorder = Recorder(db, TFX, "p", "run-1")
    artifact = recorder.artifact("Examples", "/e", half=0.5, word="yes")
    assert store.int_property(artifact, "half") is None
    assert store.int_property(artifact, "word") is None
    assert store.int_property(artifact, properties.BLESSED) is None
    assert store.string_property(artifact, properties.PUSHED_VERSION) is None
    assert store.string_property(artifact, "half") == "0.5"


def test_execution_parameters_decode_json_and_keep_numbers(db):
    recorder = Recorder(db, TFX, "p", "run-1")
    execution_id = recorder.execution(
        "Trainer", custom_config='{"profile": "sample"}', steps=3, rate=0.5, run_fn="m.run_fn"
    )
    (execution,) = db.get_executions_by_id([execution_id])
    parameters = store.execution_parameters(execution)
    assert parameters["custom_config"] == {"profile": "sample"}
    assert (parameters["steps"], parameters["rate"], parameters["run_fn"]) == (3, 0.5, "m.run_fn")


@pytest.mark.parametrize("shape", [TFX, KFP], ids=["tfx", "kfp"])
def test_the_runs_of_a_pipeline_under_tfx_or_kfp_context_types(db, shape):
    first = Recorder(db, shape, "p", "run-1")
    first.execution("Trainer")
    Recorder(db, shape, "other", "run-x").execution("Trainer")
    second = Recorder(db, shape, "p", "run-2")
    trainer_id = second.execution("Trainer")
    assert [run.name for run in store.pipeline_runs(db, "p")] == ["run-1", "run-2"]
    assert store.pipeline_runs(db, "never-ran") == []
    assert store.run_of_execution(db, trainer_id) == store.RunOf("p", "run-2", "")
    (trainer,) = db.get_executions_by_id([trainer_id])
    assert store.node_name(db, trainer, "p") == "Trainer"
    assert store.execution_state(trainer) == "complete"


def test_artifacts_by_execution_groups_inputs_and_outputs_by_key(db):
    recorder = Recorder(db, TFX, "p", "run-1")
    model = recorder.artifact("Model", "/m")
    trainer_id = recorder.execution("Trainer", outputs={"model": model})
    evaluation = recorder.artifact("ModelEvaluation", "/e")
    blessing = recorder.artifact("ModelBlessing", "/b")
    evaluator_id = recorder.execution(
        "Evaluator",
        inputs={"model": model},
        outputs={"evaluation": evaluation, "blessing": blessing},
    )
    idle_id = recorder.execution("Idle")
    io = store.artifacts_by_execution(db, [trainer_id, evaluator_id, idle_id])
    assert {k: a.uri for k, a in io[trainer_id].outputs.items()} == {"model": "/m"}
    assert io[trainer_id].inputs == {}
    assert {k: a.uri for k, a in io[evaluator_id].inputs.items()} == {"model": "/m"}
    assert {k: a.uri for k, a in io[evaluator_id].outputs.items()} == {
        "evaluation": "/e",
        "blessing": "/b",
    }
    assert io[idle_id] == store.ExecutionIO()
    assert store.producer(db, model).id == trainer_id
