"""The guide's loss and metric, shared by `fit` and the custom training loop."""

from __future__ import annotations

import tf_keras as keras


def make_loss(reduction: str = keras.losses.Reduction.AUTO) -> keras.losses.Loss:
    """Binary cross-entropy on the model's logit (the model has no sigmoid)."""
    return keras.losses.BinaryCrossentropy(from_logits=True, reduction=reduction)


def make_metrics() -> list[keras.metrics.Metric]:
    # The model outputs logits: threshold 0 is probability 0.5.
    return [keras.metrics.BinaryAccuracy(threshold=0.0)]
