"""Preflight: the classes the model is built for are the dataset's ClassLabel."""

from __future__ import annotations

import pytest

from core.config import PipelineConfig
from pipeline.preflight import PreflightError, check_inputs


def test_num_classes_must_match_the_class_label(sample_data_dir):
    config = PipelineConfig.for_profile("sample", data_dir=sample_data_dir)
    assert set(check_inputs(config)) == {"train", "eval", "test"}
    with pytest.raises(PreflightError, match=r"has 2 classes \(cat, dog\): pass --num-classes 2"):
        check_inputs(config.replace(num_classes=3))
