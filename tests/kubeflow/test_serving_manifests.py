"""The model-server configurations kubeflow/README.md gives serve what the Pusher publishes.

No TF Serving binary or KServe cluster runs here. TF Serving's own config proto (from
tensorflow-serving-api) parses models.config; the InferenceService was validated against
kserve 0.21.0's model classes by tests/kubeflow/check_kserve.py, outside the lock.
These tests pin what both must agree on with the pipeline: the model's name and folder.
"""

from __future__ import annotations

import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from core.config import PipelineConfig
from tests.conftest import REPO_ROOT

SERVING = REPO_ROOT / "kubeflow" / "serving"
MODEL_NAME = PipelineConfig.for_profile("full").evaluation.model_name


def test_tf_serving_config_parses_and_serves_the_models_folder():
    config = text_format.Parse(
        (SERVING / "models.config").read_text(), model_server_config_pb2.ModelServerConfig()
    )
    (model,) = config.model_config_list.config
    assert model.name == MODEL_NAME and model.model_platform == "tensorflow"
    assert model.base_path.endswith(f"/{MODEL_NAME}")  # the folder of versions 1/, 2/, ...
    assert model.model_version_policy.latest.num_versions == 1


def test_the_inference_service_serves_the_models_folder_with_tensorflow():
    manifest = yaml.safe_load((SERVING / "inferenceservice.yaml").read_text())
    assert (manifest["apiVersion"], manifest["kind"]) == (
        "serving.kserve.io/v1beta1",
        "InferenceService",
    )
    model = manifest["spec"]["predictor"]["model"]
    assert model["modelFormat"]["name"] == "tensorflow"
    assert model["storageUri"] == f"pvc://CLAIM/{MODEL_NAME}"
