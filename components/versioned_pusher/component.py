"""VersionedPusher: TFX's Pusher with TF Serving integer versions, published whole."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components import Pusher
from tfx.dsl.components.base import executor_spec
from tfx.proto import pusher_pb2
from tfx.types import component_spec, standard_artifacts, standard_component_specs

from components.versioned_pusher import executor
from core.code_fingerprint import CODE_FINGERPRINT_KEY, code_fingerprint
from core.metadata.store import Target


class VersionedPusherSpec(standard_component_specs.PusherSpec):
    """Pusher's spec plus the Examples the model was trained from (for its training identity),
    and the ML Metadata store in which version numbers in a bucket are claimed."""

    INPUTS = {
        **standard_component_specs.PusherSpec.INPUTS,
        standard_component_specs.EXAMPLES_KEY: component_spec.ChannelParameter(
            type=standard_artifacts.Examples, optional=True
        ),
    }
    PARAMETERS = {
        **standard_component_specs.PusherSpec.PARAMETERS,
        executor.MLMD_HOST: component_spec.ExecutionParameter(type=str, optional=True),
        executor.MLMD_PORT: component_spec.ExecutionParameter(type=int, optional=True),
        executor.MLMD_SQLITE_PATH: component_spec.ExecutionParameter(type=str, optional=True),
    }


class VersionedPusher(Pusher):
    """Pusher's inputs, outputs and parameters, plus optional `examples` and a recipe fingerprint.

    With `examples` (TfdsExampleGen's, carrying the fingerprint of the data it
    read) and `recipe_fingerprint` (what else decides the trained model: the
    code and configuration of the components up to the Trainer), each version
    records a training identity. A blessed model whose identity is the latest
    version's is "already serving" even when retraining changed its bytes:
    the scheduled Kubeflow run on unchanged data publishes nothing new.

    Example:
        VersionedPusher(
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            push_destination=tfx.proto.PushDestination(
                filesystem=tfx.proto.PushDestination.Filesystem(base_directory="serving/cats")
            ),
            examples=example_gen.outputs["examples"],
            recipe_fingerprint="3f2a...",
        )  # pushes serving/cats/1, then serving/cats/2, ...
    """

    SPEC_CLASS = VersionedPusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        model: types.BaseChannel,
        model_blessing: types.BaseChannel,
        push_destination: pusher_pb2.PushDestination,
        infra_blessing: types.BaseChannel | None = None,
        examples: types.BaseChannel | None = None,
        recipe_fingerprint: str = "",
        claims: Target | None = None,
        custom_config: dict[str, Any] | None = None,
    ):
        """Declares the component: TFX's Pusher, then what versioning adds to it.

        Args:
            model, model_blessing, push_destination: as TFX's Pusher's.
            infra_blessing: as TFX's Pusher's (here ServingCheck's): push only if
                `blessed`; the warm-up requests it holds ship with the version.
            examples: TfdsExampleGen's output, whose data fingerprint joins
                `recipe_fingerprint` in the training identity.
            recipe_fingerprint: see `pipeline.create.recipe_fingerprint`.
            claims: the ML Metadata store in which version numbers are claimed, for a
                bucket `push_destination` (a local directory needs none).
            custom_config: as the Pusher's; it also carries the executor's code
                fingerprint (so that TFX's cache key changes with that code) and
                `recipe_fingerprint`.
        """
        custom_config = {
            **(custom_config or {}),
            CODE_FINGERPRINT_KEY: code_fingerprint(executor.__name__),
            executor.RECIPE_FINGERPRINT: recipe_fingerprint,
        }
        # Pusher's own checks and channels, in Pusher's spec; then the spec with what
        # versioning adds (the pushed_model channel is the one Pusher made).
        super().__init__(
            model=model,
            model_blessing=model_blessing,
            infra_blessing=infra_blessing,
            push_destination=push_destination,
            custom_config=custom_config,
        )
        pusher = self.spec
        claims = claims or Target()
        self.spec = VersionedPusherSpec(
            **pusher.exec_properties,
            **pusher.inputs,
            **pusher.outputs,
            examples=examples,
            mlmd_host=claims.host or "",
            mlmd_port=claims.port,
            mlmd_sqlite_path=claims.sqlite_path or "",
        )
        self._validate_spec(self.spec)
        self.spec.migrate_output_channels(self)

    def _validate_spec(self, spec: types.ComponentSpec) -> None:
        """Pusher's `__init__` builds Pusher's spec, which `__init__` above then extends."""
        if type(spec) is not standard_component_specs.PusherSpec:
            super()._validate_spec(spec)
