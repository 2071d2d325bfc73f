"""The guide's loss and metric, shared by `fit` and the custom training loop, for N classes.

Two classes keep the guide exactly: one logit, binary cross-entropy on it, and
binary accuracy thresholded at logit 0 (probability 0.5). More classes get one
logit per class, softmax cross-entropy on integer labels and their accuracy.
"""

from __future__ import annotations

import tf_keras as keras


def output_units(num_classes: int) -> int:
    """Logits the model outputs: one for two classes (the guide), else one per class."""
    return 1 if num_classes == 2 else num_classes


def num_classes_of(model) -> int:
    """The classes a model built by `build_transfer_model` separates, from its output size."""
    units = int(model.output_shape[-1])
    return 2 if units == 1 else units


def make_loss(
    num_classes: int = 2, reduction: str = keras.losses.Reduction.AUTO
) -> keras.losses.Loss:
    """Cross-entropy on the model's logits (the model has no sigmoid or softmax)."""
    if num_classes == 2:
        return keras.losses.BinaryCrossentropy(from_logits=True, reduction=reduction)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)


def make_metrics(num_classes: int = 2) -> list[keras.metrics.Metric]:
    if num_classes == 2:
        # The model outputs logits: threshold 0 is probability 0.5.
        return [keras.metrics.BinaryAccuracy(threshold=0.0)]
    return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
