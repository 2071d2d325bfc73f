"""Registry behaviour that needs no pipeline run: empty stores, and records written as
TFX's local runner or KFP write them (see tests/core/metadata/records.py)."""

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from core.metadata import models, store
from pipeline.registry import commands
from tests.core.metadata.records import KFP, TFX, create_store, record_two_runs


def test_an_empty_store_lists_nothing_and_has_nothing_to_roll_back(tmp_path):
    path = str(tmp_path / "metadata.sqlite")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    metadata_store.MetadataStore(config)  # creates the schema
    db = store.connect(store.Target(sqlite_path=path))
    assert models.list_models(db) == []
    assert models.latest_blessed_model(db, "image-transfer-learning") is None
    assert commands.format_table([]).splitlines()[-1] == "(no trained model yet)"
    with pytest.raises(models.RegistryError, match="nothing was ever published"):
        commands.rollback(db, str(tmp_path / "serving" / "cats"))


# TFX stores numbers as int_value; KFP's launcher as double_value; a string also reads.
SHAPES = {"tfx-int": (TFX, int), "kfp-double": (KFP, float), "kfp-string": (KFP, str)}


@pytest.mark.parametrize("shape, number", SHAPES.values(), ids=SHAPES.keys())
def test_models_are_read_whatever_orchestrator_recorded_them(tmp_path, shape, number):
    db = create_store(str(tmp_path / "metadata.sqlite"))
    good, worse = record_two_runs(db, shape, number, str(tmp_path))
    records = models.list_models(db)
    assert [(r.id, r.pipeline, r.run_id, r.profile) for r in records] == [
        (good.id, "p", "run-1", "sample"),
        (worse.id, "p", "run-2", "sample"),
    ]
    assert [(r.blessed, r.baseline_id) for r in records] == [(True, None), (False, good.id)]
    assert records[0].evaluation_uri == str(tmp_path / "evaluations" / "good")
    assert [(p.version, p.path, p.action) for p in records[0].publications] == [
        (1, "/serving/cats/1", "push")
    ]
    assert records[1].publications == []


@pytest.mark.parametrize("shape, number", SHAPES.values(), ids=SHAPES.keys())
def test_latest_blessed_model_finds_a_blessing_stored_as_any_number(tmp_path, shape, number):
    db = create_store(str(tmp_path / "metadata.sqlite"))
    good, _ = record_two_runs(db, shape, number, str(tmp_path))
    assert models.latest_blessed_model(db, "p").id == good.id
    assert models.latest_blessed_model(db, "another-pipeline") is None


def test_one_kfp_store_keeps_each_namespaces_models_apart(tmp_path):
    """KFP names the pipeline context after the pipeline alone: two teams running a pipeline of
    the same name share it, and only each run's `namespace` tells their models apart."""
    db = create_store(str(tmp_path / "metadata.sqlite"))
    a_good, a_worse = record_two_runs(db, KFP, float, str(tmp_path / "a"), namespace="team-a")
    b_good, _ = record_two_runs(db, KFP, float, str(tmp_path / "b"), namespace="team-b")
    # team-b's blessed model is the newer one; team-a still sees its own.
    assert models.latest_blessed_model(db, "p", "team-a").id == a_good.id
    assert models.latest_blessed_model(db, "p", "team-b").id == b_good.id
    assert models.latest_blessed_model(db, "p") is None  # local runs: none here
    team_a = models.Scope("team-a", "p")
    assert [r.id for r in models.list_models(db, team_a)] == [a_good.id, a_worse.id]
    with pytest.raises(models.RegistryError, match="belongs to namespace team-b"):
        models.get_model(db, b_good.id, team_a)
    with pytest.raises(models.RegistryError, match="team-a, team-b.*--kfp-namespace"):
        models.reader_scope(db, "", "p")
    assert models.reader_scope(db, "team-b", None) == models.Scope("team-b", None)


def test_a_store_of_one_namespace_needs_no_flag(tmp_path):
    db = create_store(str(tmp_path / "metadata.sqlite"))
    record_two_runs(db, KFP, float, str(tmp_path), namespace="kubeflow")  # single-user KFP
    assert models.reader_scope(db, "", "p") == models.Scope("kubeflow", "p")
    local = create_store(str(tmp_path / "local.sqlite"))
    record_two_runs(local, TFX, int, str(tmp_path))
    assert models.reader_scope(local, "", None) == models.Scope("", None)
