"""Transform: TFX's component with `components.fast_transform.executor` as its executor."""

from tfx.components import Transform as TfxTransform
from tfx.dsl.components.base import executor_spec

from components.fast_transform import executor


class Transform(TfxTransform):
    """TFX's Transform (same spec, parameters, outputs); only its executor's costs differ."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
