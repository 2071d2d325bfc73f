"""VersionedPusher: TFX's Pusher with TF Serving integer versions written atomically."""

from __future__ import annotations

from tfx.components import Pusher
from tfx.dsl.components.base import executor_spec

from components.versioned_pusher import executor
from core.code_fingerprint import code_fingerprint


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

    def __init__(self, **kwargs):
        """Pusher's arguments; `custom_config` also carries the executor's code fingerprint.

        The fingerprint is only there so that TFX's cache key changes when this
        executor's code does.
        """
        custom_config = {
            **(kwargs.pop("custom_config", None) or {}),
            "code_fingerprint": code_fingerprint(executor.__name__),
        }
        super().__init__(custom_config=custom_config, **kwargs)
