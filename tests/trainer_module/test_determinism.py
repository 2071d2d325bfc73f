"""`--deterministic`: the Trainer turns on TensorFlow's op determinism, and only then."""

from __future__ import annotations

import numpy as np
from tensorflow.python.framework import config as tf_config

from core.config import PipelineConfig
from trainer_module import model as model_lib
from trainer_module.run import seed_everything


def test_deterministic_flag_turns_on_op_determinism():
    try:
        seed_everything(PipelineConfig.for_profile("sample").training)
        assert not tf_config.is_op_determinism_enabled()
        seed_everything(PipelineConfig.for_profile("sample", deterministic=True).training)
        assert tf_config.is_op_determinism_enabled()
    finally:
        # Process-wide switch: leave the other tests as they were.
        tf_config.disable_op_determinism()


def test_seeding_makes_the_new_head_start_from_the_same_weights():
    """What a rerun relies on: the same seed, the same initial model (the head is the only
    randomly initialised part; weights "none" makes the base random too)."""
    config = PipelineConfig.for_profile("sample", image_size=71, weights="none").training
    initial = []
    for _ in range(2):
        seed_everything(config)
        initial.append(model_lib.build_transfer_model(config, 71).model.get_weights())
    for a, b in zip(*initial, strict=True):
        np.testing.assert_array_equal(a, b)
