"""TfdsExampleGen's executor with real Beam on a generated TFDS dataset."""

import os

import pytest
import tensorflow as tf
from tfx.types import standard_artifacts

from components.tfds_example_gen import tfds_source
from components.tfds_example_gen.component import TfdsExampleGen
from components.tfds_example_gen.executor import Executor
from pipeline.config import PipelineConfig
from tests.conftest import SAMPLE_EXAMPLES

SPLITS = PipelineConfig.for_profile("sample").data.splits()


def read_split(examples_uri: str, split: str) -> list[tf.train.Example]:
    """Reads one split's gzip-compressed TFRecords, as TFX components do."""
    files = tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{split}", "*.gz"))
    assert files
    return [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(files, "GZIP")]


@pytest.fixture(scope="module")
def generated_examples(sample_data_dir, tmp_path_factory):
    component = TfdsExampleGen(
        dataset_name="cats_vs_dogs_sample", data_dir=sample_data_dir, splits=SPLITS
    )
    artifact = standard_artifacts.Examples()
    artifact.uri = str(tmp_path_factory.mktemp("examples"))
    exec_properties = component.exec_properties
    Executor().Do({}, {"examples": [artifact]}, exec_properties)
    return artifact


def test_split_counts_match_tfds_slice_arithmetic(generated_examples):
    counts = {s: len(read_split(generated_examples.uri, s)) for s in SPLITS}
    n = SAMPLE_EXAMPLES
    assert counts == {"train": n * 40 // 100, "eval": n * 10 // 100, "test": n * 10 // 100}


def test_split_names_are_recorded_on_the_artifact(generated_examples):
    assert generated_examples.split_names == '["train", "eval", "test"]'


def test_splits_are_disjoint_and_keep_raw_features(generated_examples):
    filenames = {}
    for split in SPLITS:
        examples = read_split(generated_examples.uri, split)
        keys = set(examples[0].features.feature)
        assert keys == {"image", "image/filename", "label"}
        filenames[split] = {
            e.features.feature["image/filename"].bytes_list.value[0] for e in examples
        }
    assert not filenames["train"] & filenames["eval"]
    assert not filenames["train"] & filenames["test"]
    assert not filenames["eval"] & filenames["test"]


def test_missing_dataset_names_the_directory_and_the_fix(tmp_path):
    with pytest.raises(tfds_source.DatasetUnavailableError) as raised:
        tfds_source.open_prepared_builder("cats_vs_dogs", str(tmp_path))
    message = str(raised.value)
    assert str(tmp_path) in message
    assert f"tfds build cats_vs_dogs --data_dir {tmp_path}" in message
    assert "--manual_dir" in message


def test_bad_split_strings_are_reported(sample_data_dir):
    builder = tfds_source.open_prepared_builder("cats_vs_dogs_sample", sample_data_dir)
    with pytest.raises(tfds_source.SplitError, match="validation"):
        tfds_source.shard_slices(builder, "validation[:10%]")
    with pytest.raises(tfds_source.SplitError, match="selects no examples"):
        tfds_source.shard_slices(builder, "train[10%:10%]")
