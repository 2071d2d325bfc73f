"""TFX's Transform executor with three costs of Beam and TFX removed, not its results.

- TFRecords are written as stored GZIP blocks with hardware checksums (beam_tfrecords).
- Bundles do not wait out Beam's 200 ms state-sampler sleep (beam_state_sampling).
- The analyze splits are read only when the preprocessing_fn has analyzers (analysis_input).
"""

from __future__ import annotations

from typing import Any

from tfx.components.transform import executor as tfx_transform

from components.beam_state_sampling import ShortStateSamplingExecutor
from components.beam_tfrecords import StoredTfrecordsExecutor
from components.fast_transform.analysis_input import analysis_reads_only_for_analyzers


class Executor(ShortStateSamplingExecutor, StoredTfrecordsExecutor, tfx_transform.Executor):
    """Writes the transformed pixels as stored GZIP blocks: uncompressed, see beam_tfrecords."""

    def Do(  # noqa: N802 - TFX API
        self, input_dict: dict[str, Any], output_dict: dict[str, Any], exec_properties: dict
    ) -> None:
        with analysis_reads_only_for_analyzers():
            super().Do(input_dict, output_dict, exec_properties)
