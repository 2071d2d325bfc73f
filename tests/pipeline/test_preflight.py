"""Preflight: the classes the model is built for are the dataset's ClassLabel."""

from __future__ import annotations

import pytest

from core.config import PipelineConfig
from pipeline.preflight import PreflightError, check_inputs, with_the_datasets_class_count


def test_num_classes_must_match_the_class_label(sample_data_dir):
    config = PipelineConfig.for_profile("sample", data_dir=sample_data_dir)
    assert set(check_inputs(config)) == {"train", "eval", "test"}
    with pytest.raises(PreflightError, match=r"has 2 classes \(cat, dog\): pass --num-classes 2"):
        check_inputs(config.replace(num_classes=3))


def test_the_class_count_is_the_datasets_when_no_flag_gives_it(sample_data_dir, tmp_path):
    from pipeline.sample_data import generate_sample_dataset

    generate_sample_dataset(str(tmp_path), num_examples=20, num_classes=3, dataset_name="tri")
    config = PipelineConfig.for_profile("sample", data_dir=str(tmp_path), dataset_name="tri")
    assert with_the_datasets_class_count(config).data.num_classes == 3
    missing = config.replace(dataset_name="not_prepared")
    assert with_the_datasets_class_count(missing) == missing  # check_inputs says what is wrong


def test_a_bucket_whose_file_system_tensorflow_lacks_is_refused_before_any_component(
    sample_data_dir,
):
    """TensorFlow 2.16 has no s3:// without tensorflow-io (not installed here): the run must
    say so before training, not fail in the Pusher."""
    config = PipelineConfig.for_profile(
        "sample", data_dir=sample_data_dir, serving_dir="s3://bucket/models"
    )
    with pytest.raises(PreflightError) as refused:
        check_inputs(config)
    assert "--serving-dir s3://bucket/models: this TensorFlow has no s3:// file system" in str(
        refused.value
    )
    assert "tensorflow-io" in str(refused.value)
    # gs:// and TensorFlow's in-memory ram:// are file systems TensorFlow has.
    assert set(check_inputs(config.replace(serving_dir="ram://models"))) == {
        "train", "eval", "test"
    }  # fmt: skip
