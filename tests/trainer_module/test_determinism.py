"""`--deterministic`: the Trainer turns on TensorFlow's op determinism, and only then."""

from __future__ import annotations

import tensorflow as tf
from tensorflow.python.framework import config as tf_config

from core.config import PipelineConfig
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


def test_seeding_makes_random_draws_repeat():
    config = PipelineConfig.for_profile("sample").training
    seed_everything(config)
    first = tf.random.uniform([3]).numpy().tolist()
    seed_everything(config)
    assert tf.random.uniform([3]).numpy().tolist() == first
