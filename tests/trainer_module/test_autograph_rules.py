"""The AutoGraph rule the Trainer adds: tf_keras's own code is traced, not converted."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras as keras
from tensorflow.python.autograph.core import config as autograph_config

from trainer_module import autograph_rules


def test_tf_keras_is_left_unconverted_once_and_other_rules_are_kept():
    before = autograph_config.CONVERSION_RULES
    autograph_rules.leave_tf_keras_unconverted()
    autograph_rules.leave_tf_keras_unconverted()
    after = autograph_config.CONVERSION_RULES
    assert not autograph_rules.converts_tf_keras()
    assert after[: len(before)] == before  # only appended: TensorFlow's own rules still apply
    assert len(after) - len(before) <= 1  # never twice


def test_a_keras_model_traced_without_conversion_computes_what_it_does_eagerly():
    autograph_rules.leave_tf_keras_unconverted()
    model = keras.Sequential(
        [keras.Input([4]), keras.layers.Dense(3), keras.layers.Dropout(0.5), keras.layers.Dense(1)]
    )
    inputs = tf.random.stateless_uniform([2, 4], seed=[1, 2])
    traced = tf.function(lambda x: model(x, training=False))
    np.testing.assert_allclose(traced(inputs), model(inputs, training=False), rtol=1e-6)
