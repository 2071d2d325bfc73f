"""LatestBlessedModel and EvaluatorWithOptionalBaseline on the MLMD and artifacts of real runs.

Kubeflow Pipelines itself cannot run here. The executors are what runs in the
cluster's containers; the cluster only differs in where MLMD lives (its gRPC
service: see tests/pipeline/test_registry.py for the gRPC path) and where
artifacts are stored.
"""

import json
import os

import pytest
import tensorflow_model_analysis as tfma
from ml_metadata.proto import metadata_store_pb2
from tfx.dsl.components.base import base_beam_executor
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components.latest_blessed_model import executor
from components.latest_blessed_model.component import LatestBlessedModel
from core import artifact_properties as properties
from core.config import PipelineConfig
from core.metadata import models as registry
from core.metadata import store
from pipeline.evaluation import failed_thresholds, make_eval_config
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


def evaluate(tmp_path, examples, model, baseline) -> tuple[bool, str]:
    """Runs the real Evaluator (TFMA on Beam) through EvaluatorExecutor; (blessed, output uri)."""
    evaluation = standard_artifacts.ModelEvaluation()
    evaluation.uri = str(tmp_path / "evaluation")
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path / "blessing")
    config = PipelineConfig.for_profile("sample")
    context = base_beam_executor.BaseBeamExecutor.Context(
        beam_pipeline_args=config.beam_pipeline_args(), tmp_dir=str(tmp_path / "tmp")
    )
    executor.EvaluatorExecutor(context).Do(
        {"examples": [examples], "model": [model], "baseline_model": [baseline]},
        {"evaluation": [evaluation], "blessing": [blessing]},
        {
            "eval_config": proto_utils.proto_to_json(make_eval_config(config.evaluation)),
            "example_splits": json.dumps(["test"]),
        },
    )
    return blessing.get_int_custom_property("blessed") == 1, evaluation.uri


def artifacts_of_run(worse_run):
    """The test examples and both models, as the TFX artifacts MLMD recorded."""
    db = store.connect(store.Target(sqlite_path=str(worse_run.output_dir / "metadata.sqlite")))
    (examples,) = [a for a in db.get_artifacts_by_type("Examples") if "TfdsExampleGen" in a.uri]
    good, worse = registry.list_models(db)

    def artifact(artifact_type, proto: metadata_store_pb2.Artifact):
        result = artifact_type()
        result.set_mlmd_artifact(proto)
        return result

    models = db.get_artifacts_by_id([good.id, worse.id])
    return (
        artifact(standard_artifacts.Examples, examples),
        artifact(standard_artifacts.Model, models[0]),
        artifact(standard_artifacts.Model, models[1]),
    )


@pytest.mark.e2e
def test_evaluator_compares_against_the_found_baseline(worse_run, tmp_path):
    examples, _, worse = artifacts_of_run(worse_run)
    baseline = find_baseline(str(worse_run.output_dir / "metadata.sqlite"), str(tmp_path / "b"))
    blessed, uri = evaluate(tmp_path, examples, worse, baseline)
    assert not blessed
    assert any("against the latest blessed model" in r for r in failed_thresholds(uri))


@pytest.mark.e2e
def test_evaluator_ignores_a_baseline_that_was_not_found(worse_run, tmp_path):
    """The first run on Kubeflow: value threshold only, as with a Resolver that found nothing."""
    examples, good, _ = artifacts_of_run(worse_run)
    empty = find_baseline(
        str(worse_run.output_dir / "metadata.sqlite"), str(tmp_path / "b"), "another-pipeline"
    )
    blessed, uri = evaluate(tmp_path, examples, good, empty)
    assert blessed
    diffs = [
        e.key for s in tfma.load_metrics(uri) for e in s.metric_keys_and_values if e.key.is_diff
    ]
    assert diffs == []
