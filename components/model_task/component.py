"""The Trainer and the Evaluator of the pipeline: TFX's, with the model's task recorded and
respected, and the Resolver strategy that picks a baseline of the same model name."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components import Evaluator, Trainer
from tfx.dsl.components.base import executor_spec
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.types import standard_artifacts

from components.model_task import executor
from core import artifact_properties as properties


class TrainerRecordingTask(Trainer):
    """TFX's Trainer; its Model artifact also says what task it is for (`Task`).

    `custom_config` must name the model (`model_name`): the name it is served under.
    """

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.TrainerExecutor)


class EvaluatorOfSameTask(Evaluator):
    """TFX's Evaluator; a baseline of another task is dropped (value thresholds only)."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.EvaluatorExecutor)


class LatestBlessedModelOfNameStrategy(LatestBlessedModelStrategy):
    """TFX's latest blessed model, among the models of one name (and those from before names
    were recorded). Configure with `Resolver(..., config={"model_name": ...})`."""

    def __init__(self, model_name: str):
        self._model_name = model_name

    def resolve_artifacts(
        self, store: Any, input_dict: dict[str, list[types.Artifact]]
    ) -> dict[str, list[types.Artifact]] | None:
        named = {
            key: [
                artifact
                for artifact in artifacts
                if not isinstance(artifact, standard_artifacts.Model)
                or artifact.get_string_custom_property(properties.MODEL_NAME)
                in ("", self._model_name)
            ]
            for key, artifacts in input_dict.items()
        }
        return super().resolve_artifacts(store, named)
