"""Executors: look up the latest blessed model in MLMD; evaluate against what the lookup found.

Open-source Kubeflow Pipelines cannot execute TFX Resolver nodes ("resolver
executors not implemented"). Two plain components do the Resolver's job there:

- `LookupExecutor` asks ML Metadata (the cluster's gRPC service, or a sqlite file)
  for the newest blessed Model of the pipeline, among the runs of the pod's own
  namespace, and outputs which one it is as a small string (`describe_baseline`).
  It runs uncached: the answer changes whenever a model is blessed.
- `EvaluatorExecutor` is TFX's Evaluator, given that string as a parameter instead of
  a baseline artifact: it reads the baseline model where its Trainer wrote it. KFP's
  cache key holds the string, so while the baseline stays the same the Evaluator is a
  cache hit; a copy of the model in an artifact of its own would be a new artifact
  in every run that looked the baseline up again (KFP keys on artifact ids), and 80 MB
  of bucket each time. With no blessed model yet ("") TFMA applies the value
  thresholds only, exactly as with a Resolver that found nothing.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tfx import types
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import base_beam_executor, base_executor
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs

from components.model_task.executor import same_task_inputs
from core import artifact_properties as properties
from core.config import MLMD_GRPC_PORT
from core.metadata import models
from core.metadata.store import Target, connect

PIPELINE_NAME = "pipeline_name"
MODEL_NAME = properties.MODEL_NAME
MLMD_HOST = "mlmd_host"
MLMD_PORT = "mlmd_port"
MLMD_SQLITE_PATH = "mlmd_sqlite_path"
BASELINE = properties.LOOKED_UP_BASELINE  # the lookup's output, the Evaluator's parameter
BASELINE_MODEL = standard_component_specs.BASELINE_MODEL_KEY
BLESSING = standard_component_specs.BLESSING_KEY
NO_BASELINE = ""
# Set from the pod's own metadata (the compiled PlatformSpec's fieldPathAsEnv, as
# kfp-kubernetes' use_field_path_as_env writes it).
NAMESPACE_ENV = "POD_NAMESPACE"
# What every pod with a service account token mounted can read; KFP's own launcher
# reads its namespace there (backend/src/v2/config/env.go, InPodNamespace).
SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def pod_namespace() -> str:
    """The Kubernetes namespace this task runs in; "" outside a cluster (a local run)."""
    if os.environ.get(NAMESPACE_ENV):
        return os.environ[NAMESPACE_ENV]
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE_FILE) as f:
            return f.read().strip()
    except OSError:
        return ""


def describe_baseline(record: models.ModelRecord | None) -> str:
    """The lookup's answer as the Evaluator's parameter: the model's id, location and task
    (components.model_task), or ""."""
    if record is None:
        return NO_BASELINE
    return json.dumps(
        {
            "model_id": record.id,
            "uri": record.uri,
            "run_id": record.run_id,
            "task": record.task,
        },
        sort_keys=True,
    )


class LookupExecutor(base_executor.BaseExecutor):
    """Outputs which model is the latest blessed one of `pipeline_name` in this namespace."""

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        target = Target(
            sqlite_path=exec_properties.get(MLMD_SQLITE_PATH) or None,
            host=exec_properties.get(MLMD_HOST) or None,
            port=int(exec_properties.get(MLMD_PORT) or MLMD_GRPC_PORT),
        )
        found = models.latest_blessed_model(
            connect(target),
            exec_properties[PIPELINE_NAME],
            pod_namespace(),
            model_name=exec_properties.get(MODEL_NAME) or None,
        )
        artifact_utils.get_single_instance(output_dict[BASELINE]).value = describe_baseline(found)


class EvaluatorExecutor(base_beam_executor.BaseBeamExecutor):
    """TFX's Evaluator with the baseline the lookup found (its `baseline` parameter), if any.

    TFX's executor runs inside, not as a base class: TFX's Kubeflow v2 entrypoint
    renames an Evaluator's model ids into names of input artifacts (for Vertex AI), and
    this baseline is not an input artifact of the task.
    """

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        properties_for_tfx = {k: v for k, v in exec_properties.items() if k != BASELINE}
        inputs = dict(input_dict)
        found = exec_properties.get(BASELINE) or NO_BASELINE
        if found != NO_BASELINE:
            model = json.loads(found)
            baseline = standard_artifacts.Model()
            baseline.uri = model["uri"]
            baseline.id = model["model_id"]
            for name, value in (model.get("task") or {}).items():
                baseline.set_string_custom_property(name, value)
            inputs[BASELINE_MODEL] = [baseline]
        inputs, skipped = same_task_inputs(inputs)
        evaluator_executor.Executor(self._context).Do(inputs, output_dict, properties_for_tfx)
        if skipped:
            blessing = artifact_utils.get_single_instance(output_dict[BLESSING])
            blessing.set_string_custom_property(properties.BASELINE_SKIPPED, skipped)
