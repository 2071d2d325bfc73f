"""`create_pipeline`: the whole DAG, built from one PipelineConfig; it runs nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from google.protobuf import json_format

# Specific TFX modules rather than `tfx.v1`, which also imports TFX's Google Cloud
# extensions: seconds more start-up for every `run` and `compile`.
from tfx.components import ExampleValidator, StatisticsGen
from tfx.dsl.components.base.base_node import BaseNode
from tfx.dsl.components.common.resolver import Resolver
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import pusher_pb2, trainer_pb2, transform_pb2
from tfx.types import Channel, standard_artifacts

from components.curated_schema_gen.component import CuratedSchemaGen
from components.data_fingerprint.component import DataFingerprint
from components.fast_transform.component import Transform
from components.latest_blessed_model.component import (
    BaselineLookup,
    EvaluatorWithLookedUpBaseline,
)
from components.model_task.component import (
    EvaluatorOfSameTask,
    LatestBlessedModelOfNameStrategy,
    TrainerRecordingTask,
)
from components.serving_check.component import ServingCheck
from components.tfds_example_gen.component import TfdsExampleGen
from components.tfds_example_gen.executor import DATA_FINGERPRINT
from components.versioned_pusher.component import VersionedPusher
from core import artifact_properties as properties
from core.code_fingerprint import CODE_FINGERPRINT_KEY, code_fingerprint
from core.config import RESUME_ROOT, PipelineConfig, is_remote_location
from core.metadata.store import Target
from pipeline.data_validation import SCHEMA_SPLITS, make_custom_validation_config
from pipeline.evaluation import make_eval_config
from pipeline.report.component import RunReport

# TFX names a node after its class unless told: the run history, the cache and the
# Kubeflow task keep the name every earlier run used.
TRAINER_ID = "Trainer"

PREPROCESSING_FN = "trainer_module.preprocessing.preprocessing_fn"
RUN_FN = "trainer_module.run.run_fn"


def _module(dotted_function: str) -> str:
    return dotted_function.rpartition(".")[0]


def recipe_fingerprint(trainer: BaseNode) -> str:
    """SHA-256 of what, besides the data read, decides the model `trainer` trains.

    That is every execution property of the Trainer and of every component it
    depends on (ExampleGen, StatisticsGen and SchemaGen through the schema,
    Transform): their configuration and their code fingerprints, taken from the
    graph so that no upstream component can be forgotten. ExampleGen's
    compile-time data fingerprint is left out; the Pusher pairs this with the
    fingerprint ExampleGen records when it reads the data.
    """
    recipe = {
        node.id: {
            key: str(value)
            for key, value in sorted(node.exec_properties.items())
            if key != DATA_FINGERPRINT
        }
        for node in [trainer, *upstream_of(trainer)]
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def upstream_of(node: BaseNode) -> list[BaseNode]:
    """Every node whose outputs `node` reads, directly or through others.

    Followed through the input channels' producers: `upstream_nodes` is only
    filled in when the `Pipeline` is built, after the recipe is needed.
    """
    found: dict[str, BaseNode] = {}
    pending = [node]
    while pending:
        for channel in pending.pop().inputs.values():
            producer = getattr(channel, "producer_component", None)
            if producer is not None and producer.id not in found:
                found[producer.id] = producer
                pending.append(producer)
    return list(found.values())


def create_pipeline(
    config: PipelineConfig,
    metadata_connection_config=None,
    beam_pipeline_args: list[str] | None = None,
    include_resolver: bool = True,
    baseline_lookup: Target | None = None,
    custom_label_validation: bool = True,
    run_report: bool = False,
    fingerprint_in_run: bool = False,
    trainer_resume_root: str = "",
) -> Pipeline:
    """ExampleGen -> Statistics/Schema/Validator -> Transform -> Trainer -> Evaluator -> Pusher.

    Args:
        config: the validated configuration.
        metadata_connection_config: MLMD connection (local runs: sqlite); None
            lets the orchestrator provide it (Kubeflow).
        beam_pipeline_args: Beam options for Beam-powered components.
        include_resolver: whether the Evaluator compares against the latest
            blessed model through a Resolver node (not executable on open-source
            Kubeflow Pipelines).
        baseline_lookup: with `include_resolver=False`, the MLMD store in which
            a BaselineLookup component finds the baseline instead (on Kubeflow:
            the cluster's metadata gRPC service) and hands it to the Evaluator as a
            parameter. Neither: no baseline, value thresholds only.
        custom_label_validation: whether ExampleValidator also runs the SQL check
            that every label is a known class. TFX 1.16's Kubeflow v2 compiler
            rejects the proto placeholder this check is passed as, so the
            Kubeflow variant validates against the schema only.
        run_report: whether a last RunReport component writes the run report
            as an HTML artifact (on Kubeflow, where the KFP UI shows it; local
            runs write it after the pipeline, with the component timeline).
        fingerprint_in_run: a DataFingerprint task of each run fingerprints the
            data for TfdsExampleGen's cache key (Kubeflow: compiled once, run on a
            schedule); otherwise it is taken now, while the pipeline is built.
        trainer_resume_root: where the Trainer backs up unfinished trainings; empty:
            next to its outputs. Kubeflow gives each run its own output folders, so
            a new run recovering a lost Trainer needs a place every run shares.

    Returns:
        The TFX Pipeline (nothing runs until an orchestrator runs it).

    Functions run inside Transform and Trainer are referenced by dotted path into
    the installed package, not by module file, so no orchestrator has to
    package and upload them. Their `custom_config` carries a fingerprint of the
    code they import (core.code_fingerprint), so TFX's cache key changes with
    that code: an edited trainer re-runs the Trainer, not Transform.
    """
    data = config.data
    fingerprint = None
    if fingerprint_in_run:
        fingerprint = DataFingerprint(
            dataset_name=data.dataset_name,
            data_dir=config.data_dir,
            splits=data.splits(),
            dataset_version=data.dataset_version,
        )
    example_gen = TfdsExampleGen(
        dataset_name=data.dataset_name,
        dataset_version=data.dataset_version,
        data_dir=config.data_dir,
        splits=data.splits(),
        image_key=data.image_key,
        label_key=data.label_key,
        max_image_pixels=data.max_image_pixels,
        data_fingerprint=(
            fingerprint.outputs["fingerprint"].future()[0].value if fingerprint else None
        ),
    )
    statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
    # SchemaGen's inference, curated: file names and ids carry no domain, the label's is
    # the dataset's ClassLabel (its names travel in the schema to the Trainer).
    schema_gen = CuratedSchemaGen(
        statistics=statistics_gen.outputs["statistics"],
        examples=example_gen.outputs["examples"],
        infer_feature_shape=True,
        exclude_splits=[s for s in data.splits() if s not in SCHEMA_SPLITS],
    ).with_id("SchemaGen")
    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"],
        schema=schema_gen.outputs["schema"],
        custom_validation_config=(
            make_custom_validation_config(data.num_classes) if custom_label_validation else None
        ),
    )
    transform = Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config={
            "image_size": data.image_size,
            CODE_FINGERPRINT_KEY: code_fingerprint(_module(PREPROCESSING_FN)),
        },
        splits_config=transform_pb2.SplitsConfig(analyze=["train"], transform=["train", "eval"]),
        # Its pre- and post-transform statistics are read by nothing in the pipeline, and
        # computing them over every 67 KB pixel string cost more than the transform itself.
        disable_statistics=True,
    )
    trainer = TrainerRecordingTask(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=trainer_pb2.TrainArgs(splits=["train"]),
        eval_args=trainer_pb2.EvalArgs(splits=["eval"]),
        custom_config={
            "image_size": data.image_size,
            "num_classes": data.num_classes,
            "max_image_pixels": data.max_image_pixels,  # the serving signatures refuse more
            "training": dataclasses.asdict(config.training),
            "profile": config.profile,  # recorded in MLMD for `models list`
            # Recorded on the Model artifact: a baseline is a model of the same name.
            properties.MODEL_NAME: config.evaluation.model_name,
            properties.DATASET: data.dataset_name,
            CODE_FINGERPRINT_KEY: code_fingerprint(_module(RUN_FN)),
            **({RESUME_ROOT: trainer_resume_root} if trainer_resume_root else {}),
        },
    ).with_id(TRAINER_ID)
    components = [example_gen, statistics_gen, schema_gen, example_validator, transform, trainer]
    if fingerprint is not None:
        components.insert(0, fingerprint)

    eval_config = make_eval_config(config.evaluation, data.num_classes)
    if baseline_lookup is not None and not include_resolver:
        lookup = BaselineLookup(
            pipeline_name=config.runner.pipeline_name,
            model_name=config.evaluation.model_name,
            mlmd_host=baseline_lookup.host or "",
            mlmd_port=baseline_lookup.port,
            mlmd_sqlite_path=baseline_lookup.sqlite_path or "",
        )
        components.append(lookup)
        evaluator = EvaluatorWithLookedUpBaseline(
            examples=example_gen.outputs["examples"],
            model=trainer.outputs["model"],
            baseline=lookup.outputs["baseline"].future()[0].value,
            eval_config=eval_config,
            example_splits=["test"],
        )
    else:
        baseline = None
        if include_resolver:
            resolver = Resolver(
                strategy_class=LatestBlessedModelOfNameStrategy,
                config={"model_name": config.evaluation.model_name},
                model=Channel(type=standard_artifacts.Model),
                model_blessing=Channel(type=standard_artifacts.ModelBlessing),
            ).with_id("latest_blessed_model_resolver")
            components.append(resolver)
            baseline = resolver.outputs["model"]
        evaluator = EvaluatorOfSameTask(
            examples=example_gen.outputs["examples"],
            model=trainer.outputs["model"],
            baseline_model=baseline,
            eval_config=eval_config,
            example_splits=["test"],
        )
    evaluator = evaluator.with_id("Evaluator")
    # The blessed model as a model server loads it; it also writes the warm-up requests.
    serving_check = ServingCheck(
        model=trainer.outputs["model"],
        examples=example_gen.outputs["examples"],
        blessing=evaluator.outputs["blessing"],
        eval_config=json_format.MessageToJson(eval_config),
        split="test",
    ).with_id("ServingCheck")
    # Integer versions (1, 2, ...) written atomically; the node keeps the usual id.
    pusher = VersionedPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        infra_blessing=serving_check.outputs["infra_blessing"],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(
                base_directory=config.model_serving_dir
            )
        ),
        examples=example_gen.outputs["examples"],
        recipe_fingerprint=recipe_fingerprint(trainer),
        # A bucket has no atomic rename: version numbers are claimed in the run's store.
        claims=(
            (baseline_lookup or Target(sqlite_path=config.metadata_path))
            if is_remote_location(config.serving_dir)
            else None
        ),
    ).with_id("Pusher")
    components += [evaluator, serving_check, pusher]
    if run_report:
        components.append(
            RunReport(
                config,
                examples=example_gen.outputs["examples"],
                model=trainer.outputs["model"],
                evaluation=evaluator.outputs["evaluation"],
                blessing=evaluator.outputs["blessing"],
            )
        )

    return Pipeline(
        pipeline_name=config.runner.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=components,
        enable_cache=config.runner.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args or config.beam_pipeline_args(),
    )
