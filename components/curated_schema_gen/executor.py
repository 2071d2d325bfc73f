"""SchemaGen's inference, then `curation.curate` with the class names ExampleGen recorded."""

from __future__ import annotations

import json
import os
from typing import Any

from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.schema_gen import executor as schema_gen_executor
from tfx.types import artifact, artifact_utils, standard_component_specs
from tfx.utils import io_utils

from components.curated_schema_gen import curation
from core import artifact_properties as properties

EXAMPLES = "examples"


class Executor(schema_gen_executor.Executor):
    """TFX's SchemaGen, then the inferred schema is curated in place.

    Inference gives per-example ids and file names a string domain (false anomalies on
    every new split) and guesses the label's domain; curation drops the first and takes
    the label's classes from what TfdsExampleGen recorded (the TFDS ClassLabel).
    """

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[artifact.Artifact]],
        output_dict: dict[str, list[artifact.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        super().Do(input_dict, output_dict, exec_properties)
        path = os.path.join(
            artifact_utils.get_single_uri(output_dict[standard_component_specs.SCHEMA_KEY]),
            schema_gen_executor.DEFAULT_FILE_NAME,
        )
        examples = input_dict.get(EXAMPLES) or []
        recorded = (
            examples[0].get_string_custom_property(properties.CLASS_NAMES) if examples else ""
        )
        class_names = json.loads(recorded or "[]")
        schema = io_utils.parse_pbtxt_file(path, schema_pb2.Schema())
        io_utils.write_pbtxt_file(path, curation.curate(schema, class_names))
