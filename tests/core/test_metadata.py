"""Registry behaviour that needs no pipeline run: empty or missing stores."""

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from core import metadata as store
from pipeline.registry import commands


def test_a_missing_store_is_one_clear_error(tmp_path):
    with pytest.raises(store.RegistryError, match="run the pipeline first"):
        store.connect(store.Target(sqlite_path=str(tmp_path / "metadata.sqlite")))


def test_an_empty_store_lists_nothing_and_has_nothing_to_roll_back(tmp_path):
    path = str(tmp_path / "metadata.sqlite")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    metadata_store.MetadataStore(config)  # creates the schema
    db = store.connect(store.Target(sqlite_path=path))
    assert store.list_models(db) == []
    assert store.latest_blessed_model(db, "image-transfer-learning") is None
    assert commands.format_table([]).splitlines()[-1] == "(no trained model yet)"
    with pytest.raises(store.RegistryError, match="nothing was ever published"):
        commands.rollback(db, str(tmp_path / "serving" / "cats"))


def test_an_unreachable_grpc_endpoint_is_one_clear_error():
    with pytest.raises(store.RegistryError, match="cannot reach ML Metadata at localhost:1"):
        store.connect(store.Target(host="localhost", port=1))
