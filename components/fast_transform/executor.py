"""TFX's Transform executor, unchanged except for how it writes TFRecords (beam_tfrecords)."""

from __future__ import annotations

from tfx.components.transform import executor as tfx_transform

from components.beam_tfrecords import StoredTfrecordsExecutor


class Executor(StoredTfrecordsExecutor, tfx_transform.Executor):
    """Writes the transformed pixels as stored GZIP blocks: uncompressed, see beam_tfrecords."""
