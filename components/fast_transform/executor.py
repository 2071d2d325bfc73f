"""TFX's Transform executor with two costs of Beam and TFX removed, not its results.

- TFRecords are written as stored GZIP blocks with hardware checksums (beam_tfrecords).

When Beam runs bundles in parallel, it also checks that every example reached the
transformed files (components.written_examples).
"""

from __future__ import annotations

import json
import os
from typing import Any

from tfx.components.transform import executor as tfx_transform
from tfx.types import artifact_utils, standard_component_specs

from components import written_examples
from components.beam_tfrecords import StoredTfrecordsExecutor
from core import artifact_properties as properties


class Executor(StoredTfrecordsExecutor, tfx_transform.Executor):
    """Writes the transformed pixels as stored GZIP blocks: uncompressed, see beam_tfrecords."""

    def Do(  # noqa: N802 - TFX API
        self, input_dict: dict[str, Any], output_dict: dict[str, Any], exec_properties: dict
    ) -> None:
        super().Do(input_dict, output_dict, exec_properties)
        transformed = output_dict.get(standard_component_specs.TRANSFORMED_EXAMPLES_KEY)
        if transformed and written_examples.bundles_run_in_parallel(self._beam_pipeline_args):
            raw = artifact_utils.get_single_instance(
                input_dict[standard_component_specs.EXAMPLES_KEY]
            )
            written = artifact_utils.get_single_instance(transformed)
            written_examples.check_written(
                written.uri,
                _produced_counts(raw, artifact_utils.decode_split_names(written.split_names)),
                "Transform",
            )


def _produced_counts(raw: Any, splits: list[str]) -> dict[str, int]:
    """Per transformed split, the raw examples it came from: ExampleGen's recorded counts,
    or the raw split's records when the artifact has none."""
    recorded = json.loads(raw.get_string_custom_property(properties.SPLIT_COUNTS) or "{}")
    return {
        split: recorded[split]
        if split in recorded
        else written_examples.count_split(os.path.join(raw.uri, f"Split-{split}"))
        for split in splits
    }
