"""What ExampleValidator checks beyond the schema SchemaGen infers from the train split.

The schema inferred from `train` already flags a label missing from (some)
examples of another split. A label value outside the model's classes is only
flagged by an inferred schema when `train` happens to hold just 0 and 1
(TFDV then infers a boolean domain); the custom validation below states the
model's contract explicitly, so it holds for every split and every dataset.
"""

from google.protobuf import text_format
from tensorflow_data_validation.anomalies.proto import custom_validation_config_pb2

from core import features

# The schema is inferred from these splits only; the others are checked against it.
SCHEMA_SPLITS = ("train",)


def make_custom_validation_config(
    num_classes: int = 2,
) -> custom_validation_config_pb2.CustomValidationConfig:
    """Every label is a class the model knows: 0 .. num_classes - 1."""
    highest = num_classes - 1
    classes = ", ".join(features.CLASS_NAMES) if num_classes == 2 else f"{num_classes} classes"
    return text_format.Parse(
        f"""
        feature_validations {{
          feature_path {{ step: "{features.LABEL_KEY}" }}
          validations {{
            sql_expression: "feature.num_stats.min >= 0 AND feature.num_stats.max <= {highest}"
            severity: ERROR
            description: "label outside the model's classes 0..{highest} ({classes})"
          }}
        }}
        """,
        custom_validation_config_pb2.CustomValidationConfig(),
    )
