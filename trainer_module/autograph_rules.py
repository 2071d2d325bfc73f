"""TensorFlow 2.16's AutoGraph rewrites tf_keras's own code; later TensorFlow leaves it alone.

Inside a `tf.function` AutoGraph converts every function it meets unless a rule
says not to. TF 2.16 has rules for `tensorflow` and `keras`, not for `tf_keras`
(Keras 2 since TF 2.16, which the pipeline uses), so each first trace of `fit`,
`evaluate` or a serving signature parses, transforms and recompiles the source of
every tf_keras function it reaches: Model.train_step, each layer's __call__,
the optimizer, the metrics. For this Xception that is 22 s of the 24 s its first
`fit` step takes on this machine. TensorFlow's main branch adds the missing rule
(`DoNotConvert("tf_keras")` in tensorflow/python/autograph/core/config.py); this
module adds the same rule to 2.16, which is how Keras 2 ran when it was the
`keras` package. The traced graphs are unchanged: tf_keras's code holds no
Python control flow on tensors (it uses tf.cond / smart_cond itself), and if it
did, tracing would fail loudly rather than build another graph.
"""

from __future__ import annotations

import tf_keras
from tensorflow.python.autograph.core import config as autograph_config
from tensorflow.python.autograph.core import config_lib


def leave_tf_keras_unconverted() -> None:
    """Adds TensorFlow's later `DoNotConvert("tf_keras")` rule, once; a no-op where it exists."""
    if not converts_tf_keras():
        return
    autograph_config.CONVERSION_RULES = (
        *autograph_config.CONVERSION_RULES,
        config_lib.DoNotConvert("tf_keras"),
    )


def converts_tf_keras() -> bool:
    """Whether AutoGraph would convert tf_keras's functions (no rule stops it first)."""
    for rule in autograph_config.CONVERSION_RULES:
        action = rule.get_action(tf_keras)
        if action != config_lib.Action.NONE:
            return action == config_lib.Action.CONVERT
    return True
