"""BaselineLookup on the MLMD of real runs, and in the namespaces KFP records.

Kubeflow Pipelines itself cannot run here. The executor is what runs in the
cluster's container; the cluster only differs in where MLMD lives (its gRPC
service: see tests/pipeline/test_registry.py for the gRPC path) and where
artifacts are stored. What the Evaluator does with the answer (none on the first
run: value threshold only; the latest blessed model: the change threshold refuses
a worse one) is asserted on the replayed Kubeflow runs, tests/kubeflow/test_kfp_replay.py.
"""

import json

import pytest
from tfx.types import standard_artifacts

from components.latest_blessed_model import executor
from components.latest_blessed_model.component import BaselineLookup
from core.metadata import models as registry
from core.metadata import store
from tests.core.metadata.records import KFP, create_store, record_two_runs

PIPELINE_NAME = "image-transfer-learning"


def look_up(metadata_path: str, tmp_path, pipeline_name: str = PIPELINE_NAME) -> dict | None:
    """What BaselineLookup's executor answers, decoded (None: no baseline)."""
    answer = standard_artifacts.String()
    answer.uri = str(tmp_path / "answer")
    executor.LookupExecutor().Do(
        {},
        {executor.BASELINE: [answer]},
        {executor.PIPELINE_NAME: pipeline_name, executor.MLMD_SQLITE_PATH: metadata_path},
    )
    return json.loads(answer.read()) if answer.read() else None


@pytest.mark.e2e
def test_finds_the_latest_blessed_model_not_the_newer_unblessed_one(worse_run, tmp_path):
    metadata_path = str(worse_run.output_dir / "metadata.sqlite")
    good, worse = registry.list_models(store.connect(store.Target(sqlite_path=metadata_path)))
    found = look_up(metadata_path, tmp_path)
    assert (found["model_id"], found["uri"]) == (good.id, good.uri)
    assert good.id != worse.id


@pytest.mark.e2e
def test_another_pipelines_history_gives_no_baseline(worse_run, tmp_path):
    assert look_up(str(worse_run.output_dir / "metadata.sqlite"), tmp_path, "another") is None


def test_finds_a_blessed_model_recorded_by_kfp_in_its_own_namespace_only(tmp_path, monkeypatch):
    """KFP's shape: `system.*` contexts, `tfx.Model` type, `blessed` stored as a double, the
    namespace on each run's context; the pod's namespace comes from POD_NAMESPACE."""
    metadata_path = str(tmp_path / "metadata.sqlite")
    good, _ = record_two_runs(
        create_store(metadata_path), KFP, float, str(tmp_path), namespace="team-a"
    )
    monkeypatch.setenv(executor.NAMESPACE_ENV, "team-a")
    assert look_up(metadata_path, tmp_path, "p")["model_id"] == good.id
    monkeypatch.setenv(executor.NAMESPACE_ENV, "team-b")
    assert look_up(metadata_path, tmp_path, "p") is None
    monkeypatch.delenv(executor.NAMESPACE_ENV)  # a local run: runs without a namespace only
    assert executor.pod_namespace() == ""
    assert look_up(metadata_path, tmp_path, "p") is None


def test_the_component_needs_a_store():
    with pytest.raises(ValueError, match="mlmd_host or mlmd_sqlite_path"):
        BaselineLookup(pipeline_name=PIPELINE_NAME)
