"""The one configuration object of the project, its named profiles and their validation.

`PipelineConfig` flows from the CLI into `create_pipeline`, and from there into
Transform and Trainer through `custom_config` (as plain dicts of its sections),
so no other module invents its own defaults. It is grouped in sections so that
each component receives only the part it depends on: changing an evaluation
threshold must not invalidate the Trainer's cache.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.backbones import BACKBONES

PROFILES = ("sample", "full")
WEIGHTS_IMAGENET = "imagenet"
WEIGHTS_NONE = "none"
BEAM_RUNNING_MODES = ("in_memory", "multi_threading", "multi_processing")
# The port ML Metadata's gRPC service listens on (Kubeflow's metadata-grpc-service too).
MLMD_GRPC_PORT = 8080
TRAINING_LOOPS = ("fit", "custom")
MIXED_PRECISION_MODES = ("none", "float16", "bfloat16")
# Kubeflow Pipelines only accepts these names; we use them everywhere for one name per pipeline.
_PIPELINE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
# A TFDS split string: one or more "name" or "name[a:b]" slices joined with "+".
_SPLIT_SLICE = r"[A-Za-z_][\w-]*(\[-?\d*(\.\d+)?(%|shard)?:-?\d*(\.\d+)?(%|shard)?\])?"
_SPLIT_STRING = re.compile(rf"^{_SPLIT_SLICE}(\s*\+\s*{_SPLIT_SLICE})*$")


class ConfigError(ValueError):
    """The configuration cannot run; the message lists every problem and how to fix it."""


@dataclass(frozen=True)
class DataConfig:
    """Where the images come from and how they are cut into splits and resized."""

    dataset_name: str = "cats_vs_dogs"
    dataset_version: str = ""  # empty: the newest version prepared in data_dir
    data_dir: str = "data/tfds"
    train_split: str = "train[:40%]"
    eval_split: str = "train[40%:50%]"
    test_split: str = "train[50%:60%]"
    image_key: str = "image"
    label_key: str = "label"
    # Classes of the label (the dataset's ClassLabel; preflight checks they agree). Two keep
    # the guide's single logit and binary cross-entropy; more: softmax and sparse categorical.
    num_classes: int = 2
    image_size: int = 150
    # Larger images (width x height) are skipped by ExampleGen: decoding one
    # 25-megapixel image takes 75 MB; cats_vs_dogs photos are about 0.2 MP.
    max_image_pixels: int = 25_000_000
    # Let TFDS download and prepare a missing dataset (needs the internet);
    # off by default, so an offline run fails at once with how to prepare it.
    download: bool = False
    sample_examples: int = 600  # size of the generated sample dataset (sample profile)
    # DIR/<split>/<class>/<image>: written as the TFDS dataset --dataset-name before the run.
    image_folder: str = ""

    def splits(self) -> dict[str, str]:
        """Output split name -> TFDS split string, in pipeline order."""
        return {"train": self.train_split, "eval": self.eval_split, "test": self.test_split}


@dataclass(frozen=True)
class TrainingConfig:
    """The guide's two-stage recipe; every number of it is a field."""

    # Any of core.backbones.BACKBONES; the guide's is Xception.
    backbone: str = "xception"
    weights: str = WEIGHTS_IMAGENET  # "imagenet", "none" or a path to a notop .h5 file
    augment: bool = True
    rotation_factor: float = 0.1
    dropout_rate: float = 0.2
    # The global batch (the guide's 32): MirroredStrategy splits it over the replicas, so
    # N GPUs train with the guide's batch and learning rate, each replica seeing 32 / N.
    batch_size: int = 32
    head_epochs: int = 20
    head_learning_rate: float = 1e-3  # Adam()'s default, as in the guide
    fine_tune_epochs: int = 10
    fine_tune_learning_rate: float = 1e-5
    seed: int = 1337
    # TensorFlow op determinism (tf.config.experimental.enable_op_determinism): reruns give
    # the same weights, at some speed cost; the guide does not ask for it.
    deterministic: bool = False
    # "fit": Keras fit(); "custom": the guide's tf.GradientTape loop (same stages, metrics, logs).
    training_loop: str = "fit"
    # Opt-ins that depart from the guide (all off in `full`, which is the guide exactly):
    # Without augmentation the frozen base sees the same pixels every head epoch: run it once
    # per example and train the head on the cached features (the guide's "lighter workflow").
    feature_cache: bool = False
    # Each stage ends with the weights of its epoch with the lowest eval loss (the guide keeps
    # the last epoch's: stage 2 starts from head epoch 20 and the model is fine-tune epoch 10).
    restore_best_weights: bool = False
    early_stopping_patience: int = 0  # epochs without eval-loss improvement; 0: never stop early
    # GPU paths: compute dtype of the layers (logits and loss stay float32), and XLA.
    mixed_precision: str = "none"
    jit_compile: bool = False


@dataclass(frozen=True)
class EvaluationConfig:
    """What it takes for a model to be blessed and pushed."""

    min_accuracy: float = 0.95
    # A new model is not blessed if its accuracy falls more than this below the
    # latest blessed model's (change threshold; skipped on the first run).
    max_accuracy_drop: float = 0.01
    model_name: str = "cats_vs_dogs"


@dataclass(frozen=True)
class RunnerConfig:
    """Where the run writes and how Beam executes locally."""

    pipeline_name: str = "image-transfer-learning"
    output_dir: str = "outputs"
    # Where blessed models are published; empty: <output dir>/serving. Must be a
    # file system with atomic rename (a local or mounted directory, not a bucket).
    serving_dir: str = ""
    beam_direct_running_mode: str = "in_memory"  # ~30% faster than multi_processing on 2 cores
    beam_direct_num_workers: int = 1
    enable_cache: bool = True
    verbose: bool = False


@dataclass(frozen=True)
class KubeflowConfig:
    """How the pipeline runs on Kubeflow Pipelines v2: image, Trainer GPUs, Beam, API, schedule.

    Only `python -m kubeflow` reads this section, and only it validates it
    (`kubeflow.config_checks`); local runs ignore it.
    """

    image: str = "tfx-image-transfer:0.1.0"  # built from the top-level Dockerfile
    trainer_cpu: str = "8"  # Kubernetes quantity: "8", "500m"
    trainer_memory: str = "32G"  # Kubernetes quantity: "32G", "16Gi"
    trainer_gpus: int = 1  # 0 runs the Trainer on CPU nodes
    trainer_accelerator: str = "nvidia.com/gpu"  # the extended resource the device plugin offers
    # Where GPU Trainers go: "label=value,..." and taints "key[=value]:Effect,...".
    gpu_node_selector: str = "nvidia.com/gpu.present=true"
    gpu_tolerations: str = "nvidia.com/gpu:NoSchedule"
    beam_runner: str = "DirectRunner"
    # Extra Beam flags, e.g. "--project=p --region=r --temp_location=gs://b/tmp".
    beam_options: str = ""
    beam_setup_file: str = "/pipeline/setup.py"  # ships this project to Beam workers (image path)
    kfp_host: str = ""  # empty: $KF_PIPELINES_ENDPOINT
    kfp_namespace: str = ""  # the profile namespace on multi-user Kubeflow; empty: single-user
    kfp_experiment: str = "image-transfer-learning"
    # The cluster's ML Metadata gRPC service, as pods reach it: where KFP records every
    # run, and where the baseline (latest blessed model) is looked up.
    kfp_mlmd_host: str = "metadata-grpc-service.kubeflow"
    kfp_mlmd_port: int = MLMD_GRPC_PORT
    # The PersistentVolumeClaim mounted at --serving-dir in the Pusher's pod (the model
    # server mounts it too): versions are published by atomic rename, which buckets lack.
    serving_pvc: str = ""
    cron: str = "0 0 3 * * *"  # KFP's 6-field cron: seconds minutes hours day month weekday
    max_concurrency: int = 1


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a run needs. Build it with `PipelineConfig.for_profile(...)`."""

    profile: str = "full"
    data: DataConfig = field(default_factory=DataConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    kubeflow: KubeflowConfig = field(default_factory=KubeflowConfig)

    @classmethod
    def for_profile(cls, profile: str, **overrides: Any) -> PipelineConfig:
        """Returns the named profile with `overrides` (flat field names) applied, validated."""
        if profile not in _PROFILE_OVERRIDES:
            raise ConfigError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
        merged = {**_PROFILE_OVERRIDES[profile], **overrides}
        config = cls(profile=profile).replace(**merged)
        config.validate()
        return config

    def replace(self, **flat: Any) -> PipelineConfig:
        """Returns a copy with fields changed by flat name (e.g. `head_epochs=3`)."""
        sections: dict[str, dict[str, Any]] = {}
        for name, value in flat.items():
            section = SECTION_OF_FIELD.get(name)
            if section is None:
                raise ConfigError(f"unknown configuration field {name!r}")
            sections.setdefault(section, {})[name] = value
        return dataclasses.replace(
            self,
            **{s: dataclasses.replace(getattr(self, s), **v) for s, v in sections.items()},
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineConfig:
        """Inverse of `to_dict` (used by components that receive the config as JSON)."""
        return cls(
            profile=data["profile"],
            **{name: section_type(**data[name]) for name, section_type in SECTIONS.items()},
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # ---- derived locations: one place decides where a run writes ----
    @property
    def output_dir(self) -> str:
        return _absolute_location(self.runner.output_dir)

    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.output_dir, "pipeline_root")

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output_dir, "metadata.sqlite")

    @property
    def serving_dir(self) -> str:
        """Pushed models land in `<serving_dir>/<model_name>/<version>/`."""
        if self.runner.serving_dir:
            return _absolute_location(self.runner.serving_dir)
        return os.path.join(self.output_dir, "serving")

    @property
    def model_serving_dir(self) -> str:
        return os.path.join(self.serving_dir, self.evaluation.model_name)

    @property
    def data_dir(self) -> str:
        return _absolute_location(self.data.data_dir)

    def beam_pipeline_args(self) -> list[str]:
        return [
            "--runner=DirectRunner",
            f"--direct_running_mode={self.runner.beam_direct_running_mode}",
            f"--direct_num_workers={self.runner.beam_direct_num_workers}",
        ]

    def validate(self) -> None:
        """Raises ConfigError listing every problem, before any component runs."""
        problems = _problems(self)
        if problems:
            raise ConfigError("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


# The `sample` profile is the offline default: generated data, small images, a
# few epochs and no pretrained weights. `full` is the guide's exact recipe, the
# dataclass defaults: every departure from the guide is an opt-in flag.
_PROFILE_OVERRIDES: dict[str, dict[str, Any]] = {
    "full": {},
    "sample": {
        "dataset_name": "cats_vs_dogs_sample",
        "image_size": 96,
        "weights": WEIGHTS_NONE,
        "batch_size": 16,
        "head_epochs": 4,
        "fine_tune_epochs": 1,
        # Opt-in: with a random base the eval loss of a 4-epoch run is noisy; the sample
        # keeps its best epoch rather than its last.
        "restore_best_weights": True,
        # Without ImageNet weights the frozen base gives random features: the
        # generated classes are separable well above chance, not at 0.97.
        "min_accuracy": 0.7,
        "max_accuracy_drop": 0.1,
        "model_name": "cats_vs_dogs_sample",
    },
}

SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "training": TrainingConfig,
    "evaluation": EvaluationConfig,
    "runner": RunnerConfig,
    "kubeflow": KubeflowConfig,
}
SECTION_OF_FIELD: dict[str, str] = {
    f.name: section for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)
}


def is_remote_location(location: str) -> bool:
    """Whether `location` is a URI (gs://, s3://, ...) rather than a local path."""
    return re.match(r"^[a-z][a-z0-9+.-]*://", location) is not None


def _absolute_location(location: str) -> str:
    """Local paths become absolute; URIs such as gs://bucket/dir stay as they are."""
    if is_remote_location(location):
        return location.rstrip("/")
    return os.path.abspath(os.path.expanduser(location))


def _problems(config: PipelineConfig) -> list[str]:
    data, training, evaluation, runner = (
        config.data,
        config.training,
        config.evaluation,
        config.runner,
    )
    problems = []
    if config.profile not in PROFILES:
        problems.append(f"profile {config.profile!r} is unknown: use one of {', '.join(PROFILES)}")
    if not _PIPELINE_NAME.match(runner.pipeline_name):
        problems.append(
            f"--pipeline-name {runner.pipeline_name!r} must match [a-z0-9][a-z0-9-]{{0,127}}"
            " (Kubeflow's rule: lowercase letters, digits and '-')"
        )
    for name, split in data.splits().items():
        if not _SPLIT_STRING.match(split.replace(" ", "")):
            problems.append(
                f"--{name}-split {split!r} is not a TFDS split string; write e.g. 'train[:40%]'"
            )
    if training.backbone not in BACKBONES:
        problems.append(
            f"--backbone {training.backbone!r} is unknown: use one of {', '.join(BACKBONES)}"
        )
    elif data.image_size < BACKBONES[training.backbone].min_image_size:
        problems.append(
            f"--image-size {data.image_size} is below {training.backbone}'s minimum input of "
            f"{BACKBONES[training.backbone].min_image_size}"
        )
    if data.max_image_pixels < 1:
        problems.append(f"--max-image-pixels {data.max_image_pixels} must be at least 1")
    if data.num_classes < 2:
        problems.append(f"--num-classes {data.num_classes} must be at least 2")
    if data.sample_examples < 20:
        problems.append(f"--sample-examples {data.sample_examples} must be at least 20")
    if not data.dataset_name:
        problems.append("--dataset-name is empty")
    if training.weights not in (WEIGHTS_IMAGENET, WEIGHTS_NONE) and not training.weights.endswith(
        ".h5"
    ):
        problems.append(
            f"--weights {training.weights!r}: use 'imagenet', 'none' or the path of an .h5 file"
        )
    for flag, value in (("batch-size", training.batch_size), ("head-epochs", training.head_epochs)):
        if value < 1:
            problems.append(f"--{flag} {value} must be at least 1")
    if training.fine_tune_epochs < 0:
        problems.append(f"--fine-tune-epochs {training.fine_tune_epochs} must be 0 or more")
    for flag, value in (
        ("head-learning-rate", training.head_learning_rate),
        ("fine-tune-learning-rate", training.fine_tune_learning_rate),
    ):
        if not value > 0:
            problems.append(f"--{flag} {value} must be positive")
    problems += _choice_problems(
        ("training-loop", training.training_loop, TRAINING_LOOPS),
        ("mixed-precision", training.mixed_precision, MIXED_PRECISION_MODES),
        ("beam-direct-running-mode", runner.beam_direct_running_mode, BEAM_RUNNING_MODES),
    )
    if training.early_stopping_patience < 0:
        problems.append(
            f"--early-stopping-patience {training.early_stopping_patience} must be 0 (off) or more"
        )
    if not 0 <= training.dropout_rate < 1:
        problems.append(f"--dropout-rate {training.dropout_rate} must be in [0, 1)")
    if not 0 <= training.rotation_factor <= 1:
        problems.append(f"--rotation-factor {training.rotation_factor} must be in [0, 1]")
    if not 0 <= evaluation.min_accuracy <= 1:
        problems.append(f"--min-accuracy {evaluation.min_accuracy} must be in [0, 1]")
    if not 0 <= evaluation.max_accuracy_drop <= 1:
        problems.append(f"--max-accuracy-drop {evaluation.max_accuracy_drop} must be in [0, 1]")
    if not re.match(r"^[\w.-]+$", evaluation.model_name):
        problems.append(f"--model-name {evaluation.model_name!r} must be a plain directory name")
    if runner.beam_direct_num_workers < 1:
        problems.append(
            f"--beam-direct-num-workers {runner.beam_direct_num_workers} must be at least 1"
        )
    return problems


def _choice_problems(*fields: tuple[str, str, tuple[str, ...]]) -> list[str]:
    """One problem per (flag, value, allowed values) whose value is not allowed."""
    return [
        f"--{flag} {value!r}: use one of {', '.join(choices)}"
        for flag, value, choices in fields
        if value not in choices
    ]
