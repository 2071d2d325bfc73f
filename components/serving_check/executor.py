"""ServingCheck's executor: the blessed model, loaded as a model server loads it, must answer
real requests as the Evaluator scored them and refuse hostile images one by one.

Why not TFX's InfraValidator: it starts TF Serving in Docker or Kubernetes (neither in
a Kubeflow task's container, nor is the binary on PyPI), it does not run under
KubeflowV2DagRunner (tensorflow/tfx#5512), and it does not say why a model failed
(tensorflow/tfx#5485). This check loads the SavedModel the way TF Serving and KServe's
TensorFlow runtime do, by its signatures alone (`tf.saved_model.load` in a fresh
process that imports TensorFlow and nothing of the project, probe.py), and writes
the same InfraBlessing artifact, so TFX's Pusher logic applies unchanged. What only a
real TF Serving shows (its own op kernels, its warmup log line) it cannot show.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np
import tensorflow as tf
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, path_utils

from components.serving_check import requests
from components.serving_check.verdict import ServingCheckResult, judge
from core import artifact_properties as properties

MODEL = standard_component_specs.MODEL_KEY
EXAMPLES = standard_component_specs.EXAMPLES_KEY
BLESSING = standard_component_specs.BLESSING_KEY
INFRA_BLESSING = standard_component_specs.INFRA_BLESSING_KEY
EVAL_CONFIG = standard_component_specs.EVAL_CONFIG_KEY
SPLIT = "split"
RESULT_FILE = "serving_check.json"
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.py")
# The probe loads a model and replays a dozen requests; a hang must not hold the run.
PROBE_TIMEOUT_SECONDS = 600
# TFX's InfraBlessing markers, as its InfraValidator writes them (the Pusher reads `blessed`).
_BLESSED_FILE, _NOT_BLESSED_FILE = "INFRA_BLESSED", "INFRA_NOT_BLESSED"


class Executor(base_executor.BaseExecutor):
    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        model = artifact_utils.get_single_instance(input_dict[MODEL])
        blessing = input_dict.get(BLESSING) or []
        verdict = artifact_utils.get_single_instance(output_dict[INFRA_BLESSING])
        if blessing and blessing[0].get_int_custom_property(properties.BLESSED) != 1:
            result = ServingCheckResult(skipped="the Evaluator did not bless the model")
        else:
            examples = artifact_utils.get_single_instance(input_dict[EXAMPLES])
            result = check_model(
                path_utils.serving_model_path(model.uri),
                examples.uri,
                exec_properties[SPLIT],
                exec_properties[EVAL_CONFIG],
                verdict.uri,
            )
        _write_verdict(verdict, result)


def check_model(
    model_dir: str, examples_uri: str, split: str, eval_config_json: str, output_dir: str
) -> ServingCheckResult:
    """Replays test images and hostile ones through the model in a fresh process.

    Writes `output_dir/tf_serving_warmup_requests` (what the Pusher ships with the model).

    Args:
        model_dir: the SavedModel.
        examples_uri: ExampleGen's output (raw tf.Examples).
        split: the split whose images make the requests (the Evaluator's).
        eval_config_json: the Evaluator's EvalConfig, as JSON.
        output_dir: where the warmup file goes.
    """
    started = time.monotonic()
    tf.io.gfile.makedirs(output_dir)  # a Kubeflow task's output folder is not made for it
    images = requests.read_test_images(examples_uri, split)
    warmup = requests.warmup_requests(images)
    warmup_path = os.path.join(output_dir, requests.WARMUP_FILE)
    warmup_bytes = requests.write_requests(warmup_path, [log for log, _ in warmup])
    hostile = requests.hostile_images(images[0].image)
    reference = evaluator_outputs(model_dir, eval_config_json, images)
    with tempfile.TemporaryDirectory() as scratch:
        hostile_path = os.path.join(scratch, "hostile_requests")
        requests.write_requests(hostile_path, requests.hostile_requests(hostile))
        probe = run_probe(model_dir, [warmup_path, hostile_path], scratch)
    result = judge(probe, reference, images, [size for _, size in warmup], list(hostile))
    result.warmup_requests, result.warmup_bytes = len(warmup), warmup_bytes
    result.seconds = round(time.monotonic() - started, 1)
    return result


def evaluator_outputs(
    model_dir: str, eval_config_json: str, images: list[requests.TestImage]
) -> dict[str, np.ndarray]:
    """The model's outputs for `images` as the Evaluator computed them: loaded by TFMA's own
    model loader, called through the callable TFMA's predictions extractor calls, on the
    serialized tf.Examples (tensorflow_model_analysis/utils/model_util.py)."""
    import tensorflow_model_analysis as tfma
    from google.protobuf import json_format
    from tensorflow_model_analysis.utils import model_util

    eval_config = json_format.Parse(eval_config_json, tfma.EvalConfig())
    (spec,) = eval_config.model_specs
    shared = tfma.default_eval_shared_model(
        eval_saved_model_path=model_dir, eval_config=eval_config
    )
    signature = model_util.get_callable(shared.model_loader.load(), spec.signature_name)
    outputs = signature(tf.constant([image.serialized for image in images]))
    return {key: _plain(value.numpy()) for key, value in outputs.items()}


def _plain(value: np.ndarray) -> np.ndarray:
    if value.dtype.kind in "SO":
        return np.array([v.decode() if isinstance(v, bytes) else v for v in value.reshape(-1)])
    return value


def run_probe(model_dir: str, request_files: list[str], scratch: str) -> dict[str, Any]:
    """Runs probe.py in a fresh interpreter: isolated (no PYTHONPATH, no user site, not the
    project's directory), in an empty working directory, with the environment a server
    has (no TF_USE_LEGACY_KERAS or other settings of ours)."""
    result_path = os.path.join(scratch, "probe.json")
    environment = {
        name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ
    }
    environment["TF_CPP_MIN_LOG_LEVEL"] = "2"
    process = subprocess.run(
        [sys.executable, "-I", PROBE, model_dir, result_path, *request_files],
        cwd=scratch,
        env=environment,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_SECONDS,
    )
    if process.returncode != 0 or not os.path.exists(result_path):
        return {
            "load_error": f"the server process exited {process.returncode}: "
            f"{process.stderr.strip()[-1000:]}"
        }
    with open(result_path) as f:
        return json.load(f)


def _write_verdict(verdict: types.Artifact, result: ServingCheckResult) -> None:
    """The InfraBlessing as TFX's InfraValidator writes it, with our verdict beside it."""
    tf.io.gfile.makedirs(verdict.uri)
    io_utils.write_string_file(os.path.join(verdict.uri, RESULT_FILE), result.to_json())
    marker = _BLESSED_FILE if result.passed else _NOT_BLESSED_FILE
    io_utils.write_string_file(os.path.join(verdict.uri, marker), "")
    verdict.set_int_custom_property(properties.BLESSED, int(result.passed))
    verdict.set_string_custom_property(properties.SERVING_CHECK, result.to_json())
    (logging.info if result.passed or result.skipped else logging.error)(
        "serving check %s", result.describe()
    )
