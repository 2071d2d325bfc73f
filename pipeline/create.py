"""`create_pipeline`: the whole DAG, built from one PipelineConfig; it runs nothing."""

from __future__ import annotations

import dataclasses

from tfx import v1 as tfx

from components.tfds_example_gen.component import TfdsExampleGen
from pipeline.config import PipelineConfig
from pipeline.data_validation import SCHEMA_SPLITS, make_custom_validation_config
from pipeline.evaluation import make_eval_config

PREPROCESSING_FN = "trainer_module.preprocessing.preprocessing_fn"
RUN_FN = "trainer_module.run.run_fn"


def create_pipeline(
    config: PipelineConfig,
    metadata_connection_config=None,
    beam_pipeline_args: list[str] | None = None,
    include_resolver: bool = True,
) -> tfx.dsl.Pipeline:
    """ExampleGen -> Statistics/Schema/Validator -> Transform -> Trainer -> Evaluator -> Pusher.

    Args:
        config: the validated configuration.
        metadata_connection_config: MLMD connection (local runs: sqlite); None
            lets the orchestrator provide it (Kubeflow).
        beam_pipeline_args: Beam options for Beam-powered components.
        include_resolver: whether the Evaluator compares against the latest
            blessed model through a Resolver node (not executable on open-source
            Kubeflow Pipelines).

    Functions run inside Transform and Trainer are referenced by dotted path into
    the installed package, not by module file, so no orchestrator has to
    package and upload them.
    """
    data = config.data
    example_gen = TfdsExampleGen(
        dataset_name=data.dataset_name,
        dataset_version=data.dataset_version,
        data_dir=config.data_dir,
        splits=data.splits(),
        image_key=data.image_key,
        label_key=data.label_key,
        max_image_pixels=data.max_image_pixels,
    )
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(
        statistics=statistics_gen.outputs["statistics"],
        infer_feature_shape=True,
        exclude_splits=[s for s in data.splits() if s not in SCHEMA_SPLITS],
    )
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"],
        schema=schema_gen.outputs["schema"],
        custom_validation_config=make_custom_validation_config(),
    )
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config={"image_size": data.image_size},
        splits_config=tfx.proto.SplitsConfig(analyze=["train"], transform=["train", "eval"]),
    )
    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
        custom_config={
            "image_size": data.image_size,
            "training": dataclasses.asdict(config.training),
        },
    )
    components = [example_gen, statistics_gen, schema_gen, example_validator, transform, trainer]

    baseline = None
    if include_resolver:
        resolver = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
            model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
        ).with_id("latest_blessed_model_resolver")
        components.append(resolver)
        baseline = resolver.outputs["model"]

    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline,
        eval_config=make_eval_config(config.evaluation),
        example_splits=["test"],
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.model_serving_dir)
        ),
    )
    components += [evaluator, pusher]

    return tfx.dsl.Pipeline(
        pipeline_name=config.runner.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=components,
        enable_cache=config.runner.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args or config.beam_pipeline_args(),
    )
