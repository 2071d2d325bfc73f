"""VersionedPusher: TFX's Pusher with TF Serving integer versions written atomically."""

from __future__ import annotations

from tfx.components import Pusher
from tfx.dsl.components.base import executor_spec

from components.versioned_pusher import executor


class VersionedPusher(Pusher):
    """Same inputs, outputs and parameters as `tfx.components.Pusher`.

    Example:
        VersionedPusher(
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            push_destination=tfx.proto.PushDestination(
                filesystem=tfx.proto.PushDestination.Filesystem(base_directory="serving/cats")
            ),
        )  # pushes serving/cats/1, then serving/cats/2, ...
    """

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)
