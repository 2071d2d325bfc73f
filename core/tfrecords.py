"""Counting the records of the GZIP TFRecord files every Examples artifact is stored in."""

from __future__ import annotations

import tensorflow as tf


def count_records(files: list[str]) -> int:
    """The records in these GZIP TFRecord files: one pass, nothing parsed."""
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return int(records.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))
