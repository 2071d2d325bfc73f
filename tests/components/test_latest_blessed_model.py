"""LatestBlessedModel on the MLMD of real runs.

Kubeflow Pipelines itself cannot run here. The executor is what runs in the
cluster's container; the cluster only differs in where MLMD lives (its gRPC
service: see tests/pipeline/test_registry.py for the gRPC path) and where
artifacts are stored. What the Evaluator does with the baseline it hands over
(none on the first run: value threshold only; the latest blessed model: the
change threshold refuses a worse one) is asserted on the replayed Kubeflow
runs, tests/kubeflow/test_kfp_replay.py.
"""

import os

import pytest
from tfx.types import standard_artifacts

from components.latest_blessed_model import executor
from components.latest_blessed_model.component import LatestBlessedModel
from core import artifact_properties as properties
from core.metadata import models as registry
from core.metadata import store
from tests.core.metadata.records import KFP, create_store, record_two_runs

PIPELINE_NAME = "image-transfer-learning"


def find_baseline(metadata_path: str, uri: str, pipeline_name: str = PIPELINE_NAME):
    baseline = standard_artifacts.Model()
    baseline.uri = uri
    executor.Executor().Do(
        {},
        {executor.BASELINE_MODEL: [baseline]},
        {executor.PIPELINE_NAME: pipeline_name, executor.MLMD_SQLITE_PATH: metadata_path},
    )
    return baseline


@pytest.mark.e2e
def test_finds_the_latest_blessed_model_not_the_newer_unblessed_one(worse_run, tmp_path):
    metadata_path = str(worse_run.output_dir / "metadata.sqlite")
    good, worse = registry.list_models(store.connect(store.Target(sqlite_path=metadata_path)))
    baseline = find_baseline(metadata_path, str(tmp_path / "baseline"))
    assert baseline.get_int_custom_property(properties.BASELINE_FOUND) == 1
    assert baseline.get_int_custom_property(properties.SOURCE_MODEL_ID) == good.id != worse.id
    copied = tmp_path / "baseline" / "Format-Serving" / "saved_model.pb"
    with (
        open(copied, "rb") as a,
        open(os.path.join(good.serving_model_dir, "saved_model.pb"), "rb") as b,
    ):
        assert a.read() == b.read()


@pytest.mark.e2e
def test_another_pipelines_history_gives_no_baseline(worse_run, tmp_path):
    baseline = find_baseline(
        str(worse_run.output_dir / "metadata.sqlite"), str(tmp_path / "b"), "another-pipeline"
    )
    assert baseline.get_int_custom_property(properties.BASELINE_FOUND) == 0
    assert not (tmp_path / "b").exists()


def test_finds_a_blessed_model_recorded_by_kfp(tmp_path):
    """KFP's shape: `system.*` contexts, `tfx.Model` type, `blessed` stored as a double."""
    metadata_path = str(tmp_path / "metadata.sqlite")
    good, _ = record_two_runs(create_store(metadata_path), KFP, float, str(tmp_path))
    saved_model = tmp_path / "models" / "good" / "Format-Serving" / "saved_model.pb"
    saved_model.parent.mkdir(parents=True)
    saved_model.write_bytes(b"the good model")
    baseline = find_baseline(metadata_path, str(tmp_path / "baseline"), "p")
    assert baseline.get_int_custom_property(properties.BASELINE_FOUND) == 1
    assert baseline.get_int_custom_property(properties.SOURCE_MODEL_ID) == good.id
    copied = tmp_path / "baseline" / "Format-Serving" / "saved_model.pb"
    assert copied.read_bytes() == b"the good model"


def test_the_component_needs_a_store():
    with pytest.raises(ValueError, match="mlmd_host or mlmd_sqlite_path"):
        LatestBlessedModel(pipeline_name=PIPELINE_NAME)
