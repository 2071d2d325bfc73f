"""Executor: fingerprint the prepared TFDS files a TfdsExampleGen with the same settings reads.

Locally the fingerprint is taken when the pipeline is built and becomes an execution
property of TfdsExampleGen (`data_fingerprint.py`). On Kubeflow the pipeline is built
once, on another machine, and runs for months on a schedule: there the fingerprint
must be taken by the run itself. This task does it, uncached, in seconds (it lists file
names, sizes and modification times through TensorFlow's file systems), and hands the
result to TfdsExampleGen as a parameter, so that KFP's cache key of ExampleGen, and
through its output artifact everything downstream, changes exactly when the data does.
"""

from __future__ import annotations

import json
from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from components.tfds_example_gen.data_fingerprint import data_fingerprint

DATASET_NAME = "dataset_name"
DATASET_VERSION = "dataset_version"
DATA_DIR = "data_dir"
SPLIT_PATTERNS = "split_patterns"  # JSON list of TFDS split strings
FINGERPRINT = "fingerprint"


class Executor(base_executor.BaseExecutor):
    """Writes the fingerprint of the dataset's selected shards into its String output."""

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        fingerprint = data_fingerprint(
            exec_properties[DATA_DIR],
            exec_properties[DATASET_NAME],
            exec_properties.get(DATASET_VERSION) or "",
            json.loads(exec_properties[SPLIT_PATTERNS]),
        )
        artifact_utils.get_single_instance(output_dict[FINGERPRINT]).value = fingerprint
