"""Stage 1 the guide's "lighter" way: run the frozen base once, train the head on its output.

With the base frozen and no augmentation, every head epoch would feed the base
the same pixels and get the same features; computing them once turns N epochs of
Xception forward passes into one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tf_keras as keras


def applies(augment: bool, feature_cache: bool) -> bool:
    """Random augmentation changes the base's input every epoch: then nothing can be cached."""
    return feature_cache and not augment


@dataclass(frozen=True)
class CachedFeatures:
    features: np.ndarray  # [N, 2048] float32: the pooled output of the frozen base
    labels: np.ndarray
    batch_size: int  # as the images were batched

    def dataset(self, shuffle_seed: int | None) -> tf.data.Dataset:
        """Batched like the images; reshuffled each epoch when seeded."""
        dataset = tf.data.Dataset.from_tensor_slices((self.features, self.labels))
        if shuffle_seed is not None:
            dataset = dataset.shuffle(
                len(self.labels), seed=shuffle_seed, reshuffle_each_iteration=True
            )
        return dataset.batch(self.batch_size).prefetch(tf.data.AUTOTUNE)


def extract(
    features: keras.Model,
    data: tf.data.Dataset,
    on_batch: Callable[[int], None] = lambda images: None,
) -> CachedFeatures:
    """One pass of `data` (batches of pixels, labels) through the frozen base.

    `on_batch` gets the images of each batch done (the caller's progress line).
    """

    @tf.function
    def pooled(images: tf.Tensor) -> tf.Tensor:
        return tf.cast(features(images, training=False), tf.float32)

    outputs, labels = [], []
    for images, batch_labels in data:
        outputs.append(pooled(images).numpy())
        labels.append(batch_labels.numpy())
        on_batch(len(batch_labels))
    return CachedFeatures(np.concatenate(outputs), np.concatenate(labels), len(labels[0]))
