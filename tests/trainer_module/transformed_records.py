"""Writes records shaped as Transform's output (serialized uint8 pixels + label), for tests."""

from __future__ import annotations

from collections.abc import Iterable

import tensorflow as tf

from core import features
from trainer_module import pixels


def write_transformed_records(
    path: str, images: Iterable[tf.Tensor], labels: Iterable[int]
) -> None:
    """One GZIP TFRecord file of transformed tf.Examples, as the Trainer reads them."""
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for image, label in zip(images, labels, strict=True):
            feature = {
                features.PIXELS_KEY: tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[pixels.encode_pixels(image).numpy()])
                ),
                features.LABEL_KEY: tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[int(label)])
                ),
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())
