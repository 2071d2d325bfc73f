"""ServingCheck: between the Evaluator and the Pusher, the model as a model server loads it."""

from __future__ import annotations

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts

from components.serving_check import executor


class ServingCheckSpec(component_spec.ComponentSpec):
    PARAMETERS = {
        executor.EVAL_CONFIG: component_spec.ExecutionParameter(type=str),
        executor.SPLIT: component_spec.ExecutionParameter(type=str),
    }
    INPUTS = {
        executor.MODEL: component_spec.ChannelParameter(type=standard_artifacts.Model),
        executor.EXAMPLES: component_spec.ChannelParameter(type=standard_artifacts.Examples),
        executor.BLESSING: component_spec.ChannelParameter(
            type=standard_artifacts.ModelBlessing, optional=True
        ),
    }
    OUTPUTS = {
        executor.INFRA_BLESSING: component_spec.ChannelParameter(
            type=standard_artifacts.InfraBlessing
        ),
    }


class ServingCheck(base_component.BaseComponent):
    """Loads the blessed model in a fresh TensorFlow-only process and replays requests.

    Its InfraBlessing is what TFX's InfraValidator writes (`blessed` 1 or 0), plus the
    verdict (`serving_check.json`) and the warmup requests the Pusher ships with the model
    (`tf_serving_warmup_requests`).

    Example:
        check = ServingCheck(trainer.outputs["model"], example_gen.outputs["examples"],
                             evaluator.outputs["blessing"], eval_config_json, split="test")
        Pusher(..., infra_blessing=check.outputs["infra_blessing"])
    """

    SPEC_CLASS = ServingCheckSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        model: channel.BaseChannel,
        examples: channel.BaseChannel,
        blessing: channel.BaseChannel | None,
        eval_config: str,
        split: str = "test",
    ):
        """Args:
        model: the Trainer's model.
        examples: ExampleGen's raw examples; `split`'s images make the requests.
        blessing: the Evaluator's; an unblessed model is not checked (nothing to push).
        eval_config: the Evaluator's EvalConfig as JSON (its signature is the reference).
        split: the split the Evaluator scored.
        """
        super().__init__(
            spec=ServingCheckSpec(
                model=model,
                examples=examples,
                blessing=blessing,
                eval_config=eval_config,
                split=split,
                infra_blessing=channel.Channel(type=standard_artifacts.InfraBlessing),
            )
        )
