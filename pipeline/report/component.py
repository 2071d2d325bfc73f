"""RunReport: the run report as the pipeline's last component, for Kubeflow Pipelines.

A local run writes its report after the pipeline (with the component timeline
that only the runner knows). On a cluster nobody is there after the run, so
this component builds the page with the same `content` and `page` code from its
input artifacts and outputs it as an artifact of KFP's own `system.HTML` type,
which the KFP UI shows on the task's Visualization tab.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from tfx.dsl.components.base import base_component, base_executor, executor_spec
from tfx.types import artifact, artifact_utils, channel, component_spec, standard_artifacts
from tfx.types.value_artifact import ValueArtifact

from core import artifact_properties as properties
from core.config import PipelineConfig

EXAMPLES = "examples"
MODEL = "model"
EVALUATION = "evaluation"
BLESSING = "blessing"
REPORT = "report"
CONFIG = "config"
_RECIPE_SECTIONS = ("data", "training", "evaluation")


class HtmlReport(ValueArtifact):
    """One HTML page, stored as the file at the artifact's URI.

    The type name is KFP's `system.HTML`: the KFP UI renders such artifacts by
    reading their URI as the page (as for kfp's `Output[HTML]`). A value
    artifact is a file at its URI in TFX too, rather than a directory.
    """

    TYPE_NAME = "system.HTML"

    def encode(self, value: str) -> bytes:
        return value.encode("utf-8")

    def decode(self, serialized_value: bytes) -> str:
        return serialized_value.decode("utf-8")


class RunReportSpec(component_spec.ComponentSpec):
    PARAMETERS = {CONFIG: component_spec.ExecutionParameter(type=str)}
    INPUTS = {
        EXAMPLES: component_spec.ChannelParameter(type=standard_artifacts.Examples),
        MODEL: component_spec.ChannelParameter(type=standard_artifacts.Model),
        EVALUATION: component_spec.ChannelParameter(type=standard_artifacts.ModelEvaluation),
        BLESSING: component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing),
    }
    OUTPUTS = {REPORT: component_spec.ChannelParameter(type=HtmlReport)}


class Executor(base_executor.BaseExecutor):
    """Gathers the report's content from the input artifacts and writes the page."""

    def Do(  # noqa: N802 - TFX's executor interface
        self,
        input_dict: dict[str, list[artifact.Artifact]],
        output_dict: dict[str, list[artifact.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        from pipeline.report import content as content_lib
        from pipeline.report import page

        recipe = json.loads(exec_properties[CONFIG])
        config = PipelineConfig.for_profile(
            recipe.pop("profile"),
            **{k: v for section in recipe.values() for k, v in section.items()},
        )
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES])
        evaluation = artifact_utils.get_single_instance(input_dict[EVALUATION])
        summary = summary_from_artifacts(
            run_id=getattr(self._context, "pipeline_run_id", "") or "",
            profile=config.profile,
            examples=examples,
            blessing=artifact_utils.get_single_instance(input_dict[BLESSING]),
            evaluation_uri=evaluation.uri,
        )
        artifacts = content_lib.RunArtifacts(
            model_uri=artifact_utils.get_single_instance(input_dict[MODEL]).uri,
            evaluation_uri=evaluation.uri,
            examples_uri=examples.uri,
        )
        html = page.render(content_lib.gather(config, summary, artifacts))
        artifact_utils.get_single_instance(output_dict[REPORT]).value = html


def _recipe(config: PipelineConfig) -> dict[str, Any]:
    """What the report shows of the configuration: the profile and what the model was made with.

    Not the runner or Kubeflow sections: where and how the pipeline runs (hosts,
    images) would change the component's cache key without changing the page.
    """
    recipe: dict[str, Any] = {"profile": config.profile}
    recipe.update({s: dataclasses.asdict(getattr(config, s)) for s in _RECIPE_SECTIONS})
    return recipe


def summary_from_artifacts(
    run_id: str,
    profile: str,
    examples: artifact.Artifact,
    blessing: artifact.Artifact,
    evaluation_uri: str,
) -> dict[str, Any]:
    """The run summary's fields that the artifacts record (no component timings on a cluster)."""
    from pipeline import evaluation

    def recorded(name: str) -> Any:
        value = examples.get_string_custom_property(name)
        return json.loads(value) if value else {}

    source = {
        "name": examples.get_string_custom_property(properties.TFDS_NAME),
        "version": examples.get_string_custom_property(properties.TFDS_VERSION),
        "data_dir": examples.get_string_custom_property(properties.TFDS_DATA_DIR),
        "splits": recorded(properties.TFDS_SPLITS),
    }
    return {
        "run_id": run_id,
        "profile": profile,
        "data_source": source if source["name"] else {},
        "split_counts": recorded(properties.SPLIT_COUNTS),
        "skipped_images": recorded(properties.SKIPPED_IMAGES),
        "converted_images": recorded(properties.CONVERTED_IMAGES),
        "class_names": recorded(properties.CLASS_NAMES) or [],
        "blessed": blessing.get_int_custom_property("blessed") == 1,
        "not_blessed_because": evaluation.failed_thresholds(evaluation_uri),
        "baseline_skipped": blessing.get_string_custom_property(properties.BASELINE_SKIPPED),
    }


class RunReport(base_component.BaseComponent):
    """The run report (HTML) from the run's examples, model, evaluation and blessing."""

    SPEC_CLASS = RunReportSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(
        self,
        config: PipelineConfig,
        examples: channel.BaseChannel,
        model: channel.BaseChannel,
        evaluation: channel.BaseChannel,
        blessing: channel.BaseChannel,
    ):
        super().__init__(
            spec=RunReportSpec(
                config=json.dumps(_recipe(config), sort_keys=True),
                examples=examples,
                model=model,
                evaluation=evaluation,
                blessing=blessing,
                report=channel.Channel(type=HtmlReport),
            )
        )
