"""CuratedSchemaGen: TFX's SchemaGen plus what the data's metadata says (see `curation`)."""

from __future__ import annotations

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts
from tfx.types.standard_component_specs import SchemaGenSpec
from tfx.utils import json_utils

from components.curated_schema_gen import executor


class CuratedSchemaGenSpec(component_spec.ComponentSpec):
    PARAMETERS = SchemaGenSpec.PARAMETERS
    INPUTS = {
        **SchemaGenSpec.INPUTS,
        # Read for its custom properties only: the ClassLabel names ExampleGen recorded.
        # Optional: without it the label keeps the domain TFDV inferred.
        executor.EXAMPLES: component_spec.ChannelParameter(
            type=standard_artifacts.Examples, optional=True
        ),
    }
    OUTPUTS = SchemaGenSpec.OUTPUTS
    TYPE_ANNOTATION = SchemaGenSpec.TYPE_ANNOTATION


class CuratedSchemaGen(base_component.BaseComponent):
    """SchemaGen's schema with unique features domain-free and the label's ClassLabel domain.

    Example:
        CuratedSchemaGen(
            statistics=statistics_gen.outputs["statistics"],
            examples=example_gen.outputs["examples"],
            exclude_splits=["eval", "test"],
        ).with_id("SchemaGen")
    """

    SPEC_CLASS = CuratedSchemaGenSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        statistics: channel.BaseChannel,
        examples: channel.BaseChannel | None = None,
        infer_feature_shape: bool = True,
        exclude_splits: list[str] | None = None,
    ):
        super().__init__(
            spec=CuratedSchemaGenSpec(
                statistics=statistics,
                examples=examples,
                infer_feature_shape=int(infer_feature_shape),
                exclude_splits=json_utils.dumps(exclude_splits or []),
                schema=channel.Channel(type=standard_artifacts.Schema),
            )
        )
