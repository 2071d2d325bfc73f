"""The Trainer's input: Transform's GZIP records -> (uint8 image, float label) batches."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from core import features
from tests.trainer_module.transformed_records import write_transformed_records
from trainer_module import data

SIZE = 8


class _TransformOutput:
    """Only what make_dataset reads of a tft.TFTransformOutput: the transformed feature spec."""

    def transformed_feature_spec(self) -> dict:
        return {
            features.PIXELS_KEY: tf.io.FixedLenFeature([], tf.string),
            features.LABEL_KEY: tf.io.FixedLenFeature([], tf.int64),
        }


def _write_records(path: str, count: int) -> None:
    """`count` images, image i filled with the value i and labelled i % 2."""
    images = [tf.fill([SIZE, SIZE, 3], tf.constant(i, tf.uint8)) for i in range(count)]
    write_transformed_records(path, images, [i % 2 for i in range(count)])


def test_batches_hold_every_example_once_with_its_label(tmp_path):
    _write_records(str(tmp_path / "part-0.gz"), 10)
    dataset = data.make_dataset(
        [str(tmp_path / "*.gz")], _TransformOutput(), SIZE, 4, shuffle_seed=1
    )
    assert int(dataset.cardinality()) == 3  # known: fit and the progress line read it
    images, labels = (
        np.concatenate(parts) for parts in zip(*dataset.as_numpy_iterator(), strict=True)
    )
    assert images.shape == (10, SIZE, SIZE, 3) and images.dtype == np.uint8
    first_pixel = images[:, 0, 0, 0]
    assert sorted(first_pixel) == list(range(10))
    np.testing.assert_array_equal(labels, first_pixel % 2)


def test_epochs_are_reshuffled_but_the_same_for_the_same_seed(tmp_path):
    _write_records(str(tmp_path / "part-0.gz"), 32)

    def orders(seed: int) -> list[list[int]]:
        dataset = data.make_dataset([str(tmp_path / "*.gz")], _TransformOutput(), SIZE, 32, seed)
        epochs = [images for _ in range(2) for images, _ in dataset.as_numpy_iterator()]
        return [list(images[:, 0, 0, 0]) for images in epochs]

    first, second = orders(7)
    assert first != second and sorted(first) == sorted(second)
    assert orders(7) == [first, second]


def test_autotuning_is_off_so_that_fit_does_not_wait_at_each_epoch_end(tmp_path):
    """With it on, dropping an epoch's iterator waits for the autotuning thread (2 s each)."""
    _write_records(str(tmp_path / "part-0.gz"), 4)
    dataset = data.make_dataset([str(tmp_path / "*.gz")], _TransformOutput(), SIZE, 2)
    assert dataset.options().autotune.enabled is False
