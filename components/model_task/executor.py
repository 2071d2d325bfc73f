"""Executors: the Trainer that records its model's task, the Evaluator that compares within one."""

from __future__ import annotations

import logging
from typing import Any

from tfx import types
from tfx.components.evaluator import executor as evaluator_executor
from tfx.components.trainer import executor as trainer_executor
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import json_utils, path_utils

from components.model_task.task import Task, why_not_a_baseline
from core import artifact_properties as properties

MODEL_KEY = standard_component_specs.MODEL_KEY
BASELINE_MODEL_KEY = standard_component_specs.BASELINE_MODEL_KEY
BLESSING_KEY = standard_component_specs.BLESSING_KEY


class TrainerExecutor(trainer_executor.GenericExecutor):
    """TFX's generic Trainer executor; then the task of the model it exported, on the artifact."""

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        super().Do(input_dict, output_dict, exec_properties)
        model = artifact_utils.get_single_instance(output_dict[MODEL_KEY])
        custom_config = json_utils.loads(
            exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "null"
        )
        custom_config = custom_config or {}
        task = Task.of_saved_model(
            custom_config[properties.MODEL_NAME], path_utils.serving_model_path(model.uri)
        )
        task.record_on(model)
        model.set_string_custom_property(properties.DATASET, custom_config.get("dataset", ""))


def same_task_inputs(
    input_dict: dict[str, list[types.Artifact]],
) -> tuple[dict[str, list[types.Artifact]], str]:
    """The Evaluator's inputs without a baseline of another task, and why it was dropped."""
    baselines = input_dict.get(BASELINE_MODEL_KEY) or []
    if not baselines:
        return input_dict, ""
    model = artifact_utils.get_single_instance(input_dict[MODEL_KEY])
    reason = why_not_a_baseline(Task.of(model), Task.of(baselines[0]))
    if not reason:
        return input_dict, ""
    because = f"the latest blessed model ({baselines[0].uri}) is another task's: {reason}"
    logging.warning("no baseline for this model yet: %s; value thresholds only", because)
    return {**input_dict, BASELINE_MODEL_KEY: []}, because


class EvaluatorExecutor(evaluator_executor.Executor):
    """TFX's Evaluator, never comparing with a baseline of another task (value thresholds only)."""

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        inputs, skipped = same_task_inputs(input_dict)
        super().Do(inputs, output_dict, exec_properties)
        if skipped:
            blessing = artifact_utils.get_single_instance(output_dict[BLESSING_KEY])
            blessing.set_string_custom_property(properties.BASELINE_SKIPPED, skipped)
