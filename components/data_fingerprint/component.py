"""DataFingerprint: the fingerprint TfdsExampleGen's cache key needs, taken at run time."""

from __future__ import annotations

import json
from collections.abc import Mapping

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts

from components.data_fingerprint import executor


class DataFingerprintSpec(component_spec.ComponentSpec):
    PARAMETERS = {
        executor.DATASET_NAME: component_spec.ExecutionParameter(type=str),
        executor.DATASET_VERSION: component_spec.ExecutionParameter(type=str, optional=True),
        executor.DATA_DIR: component_spec.ExecutionParameter(type=str),
        executor.SPLIT_PATTERNS: component_spec.ExecutionParameter(type=str),
    }
    INPUTS = {}
    OUTPUTS = {
        executor.FINGERPRINT: component_spec.ChannelParameter(type=standard_artifacts.String),
    }


class DataFingerprint(base_component.BaseComponent):
    """The fingerprint of the prepared files a TfdsExampleGen with the same settings reads.

    Example (Kubeflow):
        fingerprint = DataFingerprint("cats_vs_dogs", "gs://b/tfds", splits)
        TfdsExampleGen(..., data_fingerprint=fingerprint.outputs["fingerprint"].future()[0].value)
    """

    SPEC_CLASS = DataFingerprintSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        dataset_name: str,
        data_dir: str,
        splits: Mapping[str, str],
        dataset_version: str = "",
    ):
        """Args:
        dataset_name: TFDS name, e.g. "cats_vs_dogs".
        data_dir: TFDS data dir (local path, gs://, s3://).
        splits: output split name -> TFDS split string; the shards they select count.
        dataset_version: e.g. "4.0.1"; empty for the newest prepared version.
        """
        super().__init__(
            spec=DataFingerprintSpec(
                dataset_name=dataset_name,
                dataset_version=dataset_version,
                data_dir=data_dir,
                split_patterns=json.dumps(list(splits.values())),
                fingerprint=channel.Channel(type=standard_artifacts.String),
            )
        )
