"""Executors: find the latest blessed model in MLMD; evaluate with a baseline only if found.

Open-source Kubeflow Pipelines cannot execute TFX Resolver nodes ("resolver
executors not implemented"). `Executor` does the Resolver's job as a plain
component: it asks ML Metadata (the cluster's gRPC service, or a sqlite file)
for the newest blessed Model of the pipeline and copies its SavedModel into
its own output, because orchestrators give every output a fresh location.

A component always emits its output artifact. On the first run there is no
blessed model, so the artifact is marked `baseline_found=0` and
`EvaluatorExecutor` drops it: TFMA then applies the value thresholds only,
exactly as with a Resolver that found nothing.
"""

from __future__ import annotations

import os
from typing import Any

from tfx import types
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils

from core import artifact_properties as properties
from core.config import MLMD_GRPC_PORT
from core.metadata import models
from core.metadata.store import Target, connect

PIPELINE_NAME = "pipeline_name"
MLMD_HOST = "mlmd_host"
MLMD_PORT = "mlmd_port"
MLMD_SQLITE_PATH = "mlmd_sqlite_path"
BASELINE_MODEL = standard_component_specs.BASELINE_MODEL_KEY


class Executor(base_executor.BaseExecutor):
    """Outputs a copy of the latest blessed model of `pipeline_name`, or an empty marker."""

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        baseline = artifact_utils.get_single_instance(output_dict[BASELINE_MODEL])
        target = Target(
            sqlite_path=exec_properties.get(MLMD_SQLITE_PATH) or None,
            host=exec_properties.get(MLMD_HOST) or None,
            port=int(exec_properties.get(MLMD_PORT) or MLMD_GRPC_PORT),
        )
        store = connect(target)
        found = models.latest_blessed_model(store, exec_properties[PIPELINE_NAME])
        if found is None:
            baseline.set_int_custom_property(properties.BASELINE_FOUND, 0)
            return
        # io_utils copies through TFX's filesystems (local, gs://, s3://).
        io_utils.copy_dir(found.serving_model_dir, os.path.join(baseline.uri, "Format-Serving"))
        baseline.set_int_custom_property(properties.BASELINE_FOUND, 1)
        baseline.set_int_custom_property(properties.SOURCE_MODEL_ID, found.id)
        baseline.set_string_custom_property(properties.SOURCE_MODEL_URI, found.uri)


class EvaluatorExecutor(evaluator_executor.Executor):
    """TFX's Evaluator, ignoring a baseline artifact marked `baseline_found=0`."""

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        baselines = [
            b
            for b in input_dict.get(BASELINE_MODEL, [])
            # Inside a KFP task the value arrives as artifact metadata, which TFX's v2
            # entrypoint stores as a JSON struct ({"__value__": 1.0}); TFX's own getter
            # reads that, an int and a double alike (the replay test caught the difference).
            if b.get_int_custom_property(properties.BASELINE_FOUND) == 1
        ]
        super().Do({**input_dict, BASELINE_MODEL: baselines}, output_dict, exec_properties)
