"""LatestBlessedModel (a Resolver that runs anywhere) and the Evaluator that accepts its output."""

from __future__ import annotations

from tfx.components import Evaluator
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts

from components.latest_blessed_model import executor
from core.config import MLMD_GRPC_PORT


class LatestBlessedModelSpec(component_spec.ComponentSpec):
    PARAMETERS = {
        executor.PIPELINE_NAME: component_spec.ExecutionParameter(type=str),
        executor.MLMD_HOST: component_spec.ExecutionParameter(type=str, optional=True),
        executor.MLMD_PORT: component_spec.ExecutionParameter(type=int, optional=True),
        executor.MLMD_SQLITE_PATH: component_spec.ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {}
    OUTPUTS = {
        executor.BASELINE_MODEL: component_spec.ChannelParameter(type=standard_artifacts.Model),
    }


class LatestBlessedModel(base_component.BaseComponent):
    """The newest blessed Model of a pipeline, found through ML Metadata.

    Example (Kubeflow, the cluster's MLMD service):
        baseline = LatestBlessedModel(
            pipeline_name="image-transfer-learning",
            mlmd_host="metadata-grpc-service.kubeflow",
        )
        EvaluatorWithOptionalBaseline(..., baseline_model=baseline.outputs["baseline_model"])
    """

    SPEC_CLASS = LatestBlessedModelSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        pipeline_name: str,
        mlmd_host: str = "",
        mlmd_port: int = MLMD_GRPC_PORT,
        mlmd_sqlite_path: str = "",
    ):
        """Declares the lookup; ML Metadata is queried only when it runs.

        Args:
            pipeline_name: only models trained by this pipeline qualify.
            mlmd_host: an MLMD gRPC service (used when set), e.g. Kubeflow's
                metadata-grpc-service.kubeflow.
            mlmd_port: that service's port.
            mlmd_sqlite_path: a local MLMD sqlite file (used when no host is set).

        Raises:
            ValueError: neither a host nor a sqlite path was given.
        """
        if not mlmd_host and not mlmd_sqlite_path:
            raise ValueError("LatestBlessedModel needs mlmd_host or mlmd_sqlite_path")
        super().__init__(
            spec=LatestBlessedModelSpec(
                pipeline_name=pipeline_name,
                mlmd_host=mlmd_host,
                mlmd_port=mlmd_port,
                mlmd_sqlite_path=mlmd_sqlite_path,
                baseline_model=channel.Channel(type=standard_artifacts.Model),
            )
        )


class EvaluatorWithOptionalBaseline(Evaluator):
    """`tfx.components.Evaluator`; a LatestBlessedModel output that found nothing is no baseline."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.EvaluatorExecutor)
