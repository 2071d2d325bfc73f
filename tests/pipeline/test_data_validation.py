"""StatisticsGen -> SchemaGen -> ExampleValidator, as `create_pipeline` wires them, flag drift.

Real executors (real Beam, real TFDV) run on a tiny hand-written Examples
artifact whose eval split drifts from train: some examples lost their label
and one has a label the model does not know. A whole pipeline run would cost
minutes for the same check.
"""

import os
import random

import pytest
import tensorflow as tf
from tfx.components.example_validator.executor import Executor as ExampleValidatorExecutor
from tfx.components.statistics_gen.executor import Executor as StatisticsGenExecutor
from tfx.types import artifact_utils, standard_artifacts

from components.curated_schema_gen.executor import Executor as CuratedSchemaGenExecutor
from core import artifact_properties, features
from core.config import PipelineConfig
from pipeline.create import create_pipeline
from pipeline.data_validation import make_custom_validation_config
from pipeline.run_summary import read_anomalies
from pipeline.sample_data import draw_image


def write_split(uri: str, split: str, labels: list[int | None]) -> None:
    rng = random.Random(split)
    path = os.path.join(uri, f"Split-{split}", "data.gz")
    os.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path, "GZIP") as writer:
        for i, label in enumerate(labels):
            example = tf.train.Example()
            feature = example.features.feature
            feature["image"].bytes_list.value.append(draw_image(label or 0, rng))
            # Per-example names and ids; few distinct values, so TFDV would infer a domain.
            index = i % 3
            feature[features.FILENAME_KEY].bytes_list.value.append(f"{split}{index}.jpg".encode())
            feature[features.ID_KEY].bytes_list.value.append(f"{split}.tfrecord__{index}".encode())
            if label is not None:
                feature["label"].int64_list.value.append(label)
            writer.write(example.SerializeToString())


def output(artifact_type, tmp_path, name):
    artifact = artifact_type()
    artifact.uri = str(tmp_path / name)
    os.makedirs(artifact.uri)
    return artifact


@pytest.fixture(scope="module")
def anomalies(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("validation")
    components = {c.id: c for c in create_pipeline(PipelineConfig.for_profile("sample")).components}
    examples = output(standard_artifacts.Examples, tmp_path, "examples")
    examples.split_names = artifact_utils.encode_split_names(["train", "eval", "test"])
    examples.set_string_custom_property(artifact_properties.CLASS_NAMES, '["cat", "dog"]')
    write_split(examples.uri, "train", [0, 1] * 10)
    write_split(examples.uri, "eval", [0, 1, None, None, 2, 1, 0, 1])
    write_split(examples.uri, "test", [1, 0] * 4)

    statistics = output(standard_artifacts.ExampleStatistics, tmp_path, "statistics")
    StatisticsGenExecutor().Do(
        {"examples": [examples]},
        {"statistics": [statistics]},
        components["StatisticsGen"].exec_properties,
    )
    schema = output(standard_artifacts.Schema, tmp_path, "schema")
    CuratedSchemaGenExecutor().Do(
        {"statistics": [statistics], "examples": [examples]},
        {"schema": [schema]},
        components["SchemaGen"].exec_properties,
    )
    result = output(standard_artifacts.ExampleAnomalies, tmp_path, "anomalies")
    ExampleValidatorExecutor().Do(
        {"statistics": [statistics], "schema": [schema]},
        {"anomalies": [result]},
        # The component holds the config as a placeholder the orchestrator resolves.
        {
            **components["ExampleValidator"].exec_properties,
            "custom_validation_config": make_custom_validation_config(),
        },
    )
    return read_anomalies(result.mlmd_artifact)


def test_clean_splits_have_no_anomalies(anomalies):
    assert anomalies["train"] == [] and anomalies["test"] == []


def test_unseen_file_names_and_ids_are_no_anomalies(anomalies):
    # Every eval/test name and id is new to the train split's schema.
    for split_anomalies in anomalies.values():
        for key in features.UNIQUE_KEYS:
            assert not [a for a in split_anomalies if a.startswith(f"{key}:")]


def test_a_missing_label_is_flagged(anomalies):
    (label,) = [a for a in anomalies["eval"] if a.startswith("label:")]
    assert (
        "Column dropped" in label
    )  # TFDV's name for "present in fewer examples than the schema says"


def test_a_label_outside_the_models_classes_is_flagged(anomalies):
    (label,) = [a for a in anomalies["eval"] if a.startswith("label:")]
    assert "Out-of-range values" in label  # the schema's domain: the ClassLabel's 0..1
    assert "label outside the model's classes 0..1 (cat, dog)" in label  # the custom validation
