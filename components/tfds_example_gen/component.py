"""TfdsExampleGen: a TFX ExampleGen whose splits are TFDS split strings of a prepared dataset."""

from __future__ import annotations

from collections.abc import Mapping

from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.dsl.placeholder import placeholder
from tfx.proto import example_gen_pb2
from tfx.types import channel, component_spec, standard_artifacts, standard_component_specs

from components.tfds_example_gen import executor
from components.tfds_example_gen.data_fingerprint import data_fingerprint as fingerprint_files
from core.code_fingerprint import CODE_FINGERPRINT_KEY, code_fingerprint


class TfdsExampleGenSpec(component_spec.ComponentSpec):
    """ExampleGen's standard parameters plus where the TFDS dataset lives."""

    PARAMETERS = {
        standard_component_specs.INPUT_CONFIG_KEY: component_spec.ExecutionParameter(
            type=example_gen_pb2.Input
        ),
        standard_component_specs.OUTPUT_CONFIG_KEY: component_spec.ExecutionParameter(
            type=example_gen_pb2.Output
        ),
        standard_component_specs.OUTPUT_DATA_FORMAT_KEY: component_spec.ExecutionParameter(
            type=int
        ),
        standard_component_specs.OUTPUT_FILE_FORMAT_KEY: component_spec.ExecutionParameter(
            type=int
        ),
        executor.DATASET_NAME: component_spec.ExecutionParameter(type=str),
        executor.DATASET_VERSION: component_spec.ExecutionParameter(type=str, optional=True),
        executor.DATA_DIR: component_spec.ExecutionParameter(type=str),
        executor.SOURCE_IMAGE_KEY: component_spec.ExecutionParameter(type=str),
        executor.SOURCE_LABEL_KEY: component_spec.ExecutionParameter(type=str),
        executor.MAX_IMAGE_PIXELS: component_spec.ExecutionParameter(type=int),
        executor.DATA_FINGERPRINT: component_spec.ExecutionParameter(type=str, optional=True),
        CODE_FINGERPRINT_KEY: component_spec.ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {}
    OUTPUTS = {
        standard_component_specs.EXAMPLES_KEY: component_spec.ChannelParameter(
            type=standard_artifacts.Examples
        ),
    }


class TfdsExampleGen(base_beam_component.BaseBeamComponent):
    """Reads a prepared TFDS image dataset into one Examples artifact with named splits.

    Every image is validated: convertible ones (grayscale, RGBA, CMYK, PNG, ...)
    become RGB JPEGs, broken or oversized ones are skipped and counted. The
    artifact's custom properties record the TFDS name, version, data dir and
    split strings, the examples per split and the converted/skipped images per
    split and reason.

    Two execution properties exist only for TFX's cache key: a fingerprint of
    the prepared files it reads (names, sizes, modification times, dataset
    version; see data_fingerprint) and one of its own code. Re-preparing the
    data or editing the component runs it again; otherwise it stays cached.

    Example:
        TfdsExampleGen(
            dataset_name="cats_vs_dogs",
            data_dir="/data/tfds",
            splits={"train": "train[:40%]", "eval": "train[40%:50%]", "test": "train[50%:60%]"},
            max_image_pixels=25_000_000,
        )
    """

    SPEC_CLASS = TfdsExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        dataset_name: str,
        data_dir: str,
        splits: Mapping[str, str],
        max_image_pixels: int,
        dataset_version: str = "",
        image_key: str = "image",
        label_key: str = "label",
        data_fingerprint: str | placeholder.Placeholder | None = None,
    ):
        """Declares the component; nothing is read until it runs.

        Args:
            dataset_name: TFDS name, e.g. "cats_vs_dogs".
            data_dir: TFDS data dir the dataset was prepared in (never downloaded here).
            splits: output split name -> TFDS split string.
            max_image_pixels: images with more pixels (width x height) are skipped.
            dataset_version: e.g. "4.0.1"; empty for the newest prepared version.
            image_key: the dataset's image feature (encoded bytes).
            label_key: the dataset's integer label feature.
            data_fingerprint: the fingerprint of the files it will read, for the cache
                key. None: taken now, when the pipeline is built (local runs). On
                Kubeflow, where the pipeline is built once and runs on a schedule, a
                DataFingerprint task of each run takes it: pass its output
                (`.future()[0].value`).

        Raises (when it runs, before the Beam job starts):
            DatasetUnavailableError, SplitError, FeatureKeyError (tfds_source): a
                dataset that is not prepared, a bad split string, a missing feature.
            EmptySplitError: every image of a split was skipped.
        """
        input_config = example_gen_pb2.Input(
            splits=[
                example_gen_pb2.Input.Split(name=name, pattern=pattern)
                for name, pattern in splits.items()
            ]
        )
        spec = TfdsExampleGenSpec(
            input_config=input_config,
            output_config=example_gen_pb2.Output(),
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            dataset_name=dataset_name,
            dataset_version=dataset_version,
            data_dir=data_dir,
            image_key=image_key,
            label_key=label_key,
            max_image_pixels=max_image_pixels,
            data_fingerprint=(
                data_fingerprint
                if data_fingerprint is not None
                else fingerprint_files(data_dir, dataset_name, dataset_version, splits.values())
            ),
            code_fingerprint=code_fingerprint(executor.__name__),
            examples=channel.Channel(type=standard_artifacts.Examples),
        )
        super().__init__(spec=spec)
