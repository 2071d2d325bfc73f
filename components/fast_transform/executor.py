"""TFX's Transform executor, unchanged except for how it writes TFRecords (beam_tfrecords)."""

from __future__ import annotations

from typing import Any

from tfx.components.transform import executor as tfx_transform
from tfx.types import artifact

from components import beam_tfrecords


class Executor(tfx_transform.Executor):
    """Writes the transformed pixels as stored GZIP blocks: uncompressed, see beam_tfrecords."""

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[artifact.Artifact]],
        output_dict: dict[str, list[artifact.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        with beam_tfrecords.fast_tfrecord_io(beam_tfrecords.STORED):
            super().Do(input_dict, output_dict, exec_properties)
