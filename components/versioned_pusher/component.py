"""VersionedPusher: TFX's Pusher with TF Serving integer versions written atomically."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components import Pusher
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import pusher_pb2
from tfx.types import component_spec, standard_artifacts, standard_component_specs
from tfx.utils import json_utils

from components.versioned_pusher import executor
from core.code_fingerprint import CODE_FINGERPRINT_KEY, code_fingerprint


class VersionedPusherSpec(standard_component_specs.PusherSpec):
    """Pusher's spec plus the Examples the model was trained from (for its training identity)."""

    INPUTS = {
        **standard_component_specs.PusherSpec.INPUTS,
        standard_component_specs.EXAMPLES_KEY: component_spec.ChannelParameter(
            type=standard_artifacts.Examples, optional=True
        ),
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
        examples: types.BaseChannel | None = None,
        recipe_fingerprint: str = "",
        custom_config: dict[str, Any] | None = None,
    ):
        """Declares the component.

        `custom_config` also carries the executor's code fingerprint (so that
        TFX's cache key changes with that code) and `recipe_fingerprint`.
        Pusher's own `__init__` is skipped because it builds Pusher's spec,
        which has no `examples` input.
        """
        custom_config = {
            **(custom_config or {}),
            CODE_FINGERPRINT_KEY: code_fingerprint(executor.__name__),
            executor.RECIPE_FINGERPRINT: recipe_fingerprint,
        }
        spec = VersionedPusherSpec(
            model=model,
            model_blessing=model_blessing,
            examples=examples,
            push_destination=push_destination,
            custom_config=json_utils.dumps(custom_config),
            pushed_model=types.Channel(type=standard_artifacts.PushedModel),
        )
        base_component.BaseComponent.__init__(self, spec=spec)
