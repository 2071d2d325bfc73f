"""BaselineLookup (the Resolver's job, as a task that runs anywhere) and the Evaluator that
takes its answer."""

from __future__ import annotations

from tfx.dsl.components.base import base_beam_component, base_component, executor_spec
from tfx.dsl.placeholder import placeholder
from tfx.types import channel, component_spec, standard_artifacts, standard_component_specs
from tfx.utils import json_utils

from components.latest_blessed_model import executor
from core.config import MLMD_GRPC_PORT


class BaselineLookupSpec(component_spec.ComponentSpec):
    PARAMETERS = {
        executor.PIPELINE_NAME: component_spec.ExecutionParameter(type=str),
        executor.MODEL_NAME: component_spec.ExecutionParameter(type=str, optional=True),
        executor.MLMD_HOST: component_spec.ExecutionParameter(type=str, optional=True),
        executor.MLMD_PORT: component_spec.ExecutionParameter(type=int, optional=True),
        executor.MLMD_SQLITE_PATH: component_spec.ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {}
    OUTPUTS = {
        executor.BASELINE: component_spec.ChannelParameter(type=standard_artifacts.String),
    }


class BaselineLookup(base_component.BaseComponent):
    """Which Model is the newest blessed one of a pipeline, in this task's namespace.

    Outputs a String: the model's id and location (JSON), or "" when none is blessed
    yet. Feed it to EvaluatorWithLookedUpBaseline as
    `baseline=lookup.outputs["baseline"].future()[0].value`.

    Example (Kubeflow, the cluster's MLMD service):
        lookup = BaselineLookup(
            pipeline_name="image-transfer-learning",
            mlmd_host="metadata-grpc-service.kubeflow",
        )
    """

    SPEC_CLASS = BaselineLookupSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.LookupExecutor)

    def __init__(
        self,
        pipeline_name: str,
        model_name: str = "",
        mlmd_host: str = "",
        mlmd_port: int = MLMD_GRPC_PORT,
        mlmd_sqlite_path: str = "",
    ):
        """Declares the lookup; ML Metadata is queried only when it runs.

        Args:
            pipeline_name: only models trained by this pipeline qualify (and, on
                Kubeflow, only those of runs in the task's own namespace).
            model_name: ...and only models of this name (the task's; see
                components.model_task), when given.
            mlmd_host: an MLMD gRPC service (used when set), e.g. Kubeflow's
                metadata-grpc-service.kubeflow.
            mlmd_port: that service's port.
            mlmd_sqlite_path: a local MLMD sqlite file (used when no host is set).

        Raises:
            ValueError: neither a host nor a sqlite path was given.
        """
        if not mlmd_host and not mlmd_sqlite_path:
            raise ValueError("BaselineLookup needs mlmd_host or mlmd_sqlite_path")
        super().__init__(
            spec=BaselineLookupSpec(
                pipeline_name=pipeline_name,
                model_name=model_name,
                mlmd_host=mlmd_host,
                mlmd_port=mlmd_port,
                mlmd_sqlite_path=mlmd_sqlite_path,
                baseline=channel.Channel(type=standard_artifacts.String),
            )
        )


class EvaluatorWithLookedUpBaselineSpec(component_spec.ComponentSpec):
    """TFX's EvaluatorSpec, with the baseline as a parameter instead of an input artifact."""

    PARAMETERS = {
        **standard_component_specs.EvaluatorSpec.PARAMETERS,
        executor.BASELINE: component_spec.ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {
        key: value
        for key, value in standard_component_specs.EvaluatorSpec.INPUTS.items()
        if key != executor.BASELINE_MODEL
    }
    OUTPUTS = standard_component_specs.EvaluatorSpec.OUTPUTS


class EvaluatorWithLookedUpBaseline(base_beam_component.BaseBeamComponent):
    """TFX's Evaluator, judging against the model BaselineLookup found (none: value thresholds)."""

    SPEC_CLASS = EvaluatorWithLookedUpBaselineSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.EvaluatorExecutor)

    def __init__(
        self,
        examples: channel.BaseChannel,
        model: channel.BaseChannel,
        baseline: str | placeholder.Placeholder,
        eval_config: object,
        example_splits: list[str],
    ):
        """Args:
        examples, model, eval_config, example_splits: as TFX's Evaluator's.
        baseline: BaselineLookup's `baseline` output (`.future()[0].value`), or its value.
        """
        super().__init__(
            spec=EvaluatorWithLookedUpBaselineSpec(
                examples=examples,
                model=model,
                baseline=baseline,
                eval_config=eval_config,
                example_splits=json_utils.dumps(example_splits),
                fairness_indicator_thresholds=json_utils.dumps(None),
                evaluation=channel.Channel(type=standard_artifacts.ModelEvaluation),
                blessing=channel.Channel(type=standard_artifacts.ModelBlessing),
            )
        )
