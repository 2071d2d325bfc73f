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
# Beam runners the Beam-powered components can run on, and the options each cannot start
# without (checked before any component runs).
BEAM_RUNNER_REQUIRED_OPTIONS: dict[str, tuple[str, ...]] = {
    "DirectRunner": (),
    "PortableRunner": ("--job_endpoint",),
    "DataflowRunner": ("--project", "--region", "--temp_location"),
    "FlinkRunner": ("--flink_master",),
    "SparkRunner": ("--spark_master_url",),
}
# The port ML Metadata's gRPC service listens on (Kubeflow's metadata-grpc-service too).
MLMD_GRPC_PORT = 8080
TRAINING_LOOPS = ("fit", "custom")
MIXED_PRECISION_MODES = ("none", "float16", "bfloat16")
# The Trainer's custom_config key naming where backups of unfinished trainings live
# (default: a folder next to the Trainer's outputs; see trainer_module.run).
RESUME_ROOT = "resume_root"
# This project's setup.py when it runs from a checkout (an editable install), else "".
_CHECKOUT_SETUP_FILE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "setup.py")
LOCAL_SETUP_FILE = _CHECKOUT_SETUP_FILE if os.path.isfile(_CHECKOUT_SETUP_FILE) else ""
# Kubeflow Pipelines only accepts these names; we use them everywhere for one name per pipeline.
_PIPELINE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
# A TFDS split string: one or more "name" or "name[a:b]" slices joined with "+".
_SPLIT_SLICE = r"[A-Za-z_][\w-]*(\[-?\d*(\.\d+)?(%|shard)?:-?\d*(\.\d+)?(%|shard)?\])?"
_SPLIT_STRING = re.compile(rf"^{_SPLIT_SLICE}(\s*\+\s*{_SPLIT_SLICE})*$")


class ConfigError(ValueError):
    """The configuration cannot run; the message lists every problem and how to fix it."""


def _option(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """A configuration field and its documentation, the one source of its flag's help.

    `help` says what the field does and its unit; `choices`, when the values are
    fixed, become the flag's argparse choices (a typo is rejected with the list).
    """
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class DataConfig:
    """Where the images come from and how they are cut into splits and resized."""

    dataset_name: str = _option("cats_vs_dogs", "TFDS dataset name, prepared in the data dir")
    dataset_version: str = _option(
        "", "TFDS dataset version, e.g. 4.0.1; empty: the newest version prepared in --data-dir"
    )
    data_dir: str = _option("data/tfds", "TFDS data directory (local path or gs://...)")
    train_split: str = _option("train[:40%]", "TFDS split string of the training examples")
    eval_split: str = _option(
        "train[40%:50%]", "TFDS split string of the examples validated on after each epoch"
    )
    test_split: str = _option(
        "train[50%:60%]", "TFDS split string of the examples the Evaluator scores for blessing"
    )
    image_key: str = _option("image", "the dataset's image feature")
    label_key: str = _option("label", "the dataset's label feature (class index)")
    # Two keep the guide's single logit and binary cross-entropy; more: softmax, sparse CE.
    num_classes: int = _option(
        2,
        "classes of the label; `run` takes the prepared dataset's (or image folder's) count "
        "when not given, a given one must agree; generate-sample: the sample's classes",
    )
    image_size: int = _option(
        150, "side of the square model input, in pixels (at least the backbone's minimum)"
    )
    # Decoding one 25-megapixel image takes 75 MB; cats_vs_dogs photos are about 0.2 MP.
    max_image_pixels: int = _option(
        25_000_000, "images larger than this (width x height, in pixels) are skipped"
    )
    # Off by default, so an offline run fails at once with how to prepare the data.
    download: bool = _option(
        False,
        "let TFDS download and prepare a dataset that is not prepared in the data dir "
        "(needs the internet)",
    )
    sample_examples: int = _option(
        600, "number of images in the generated sample dataset (generate-sample)"
    )
    image_folder: str = _option(
        "",
        "your own photos, one folder per class: DIR/<class>/<image> (split train/eval/test "
        "by the two fractions below) or DIR/train/<class>/..., DIR/test/<class>/... (eval "
        "carved from train); the dataset name, classes and model name follow from the folder "
        "(local runs)",
    )
    eval_fraction: float = _option(
        0.1, "share of an image folder's training images held out for eval, when it has no eval/"
    )
    test_fraction: float = _option(
        0.1, "share of an image folder's images held out for test, when it has no test/"
    )

    def splits(self) -> dict[str, str]:
        """Output split name -> TFDS split string, in pipeline order."""
        return {"train": self.train_split, "eval": self.eval_split, "test": self.test_split}


@dataclass(frozen=True)
class TrainingConfig:
    """The guide's two-stage recipe; every number of it is a field."""

    backbone: str = _option(
        "xception",
        "the pretrained base (keras.applications); the guide's is xception",
        tuple(BACKBONES),
    )
    weights: str = _option(
        WEIGHTS_IMAGENET,
        "the backbone's starting weights: 'imagenet' (its notop file in $KERAS_HOME/models), "
        "'none' (random) or the path of a notop .h5",
    )
    augment: bool = _option(True, "random horizontal flips and rotations while training")
    rotation_factor: float = _option(
        0.1, "largest random rotation, as a fraction of a full turn (0.1 = 36 degrees)"
    )
    dropout_rate: float = _option(0.2, "dropout before the new head, a fraction in [0, 1)")
    # MirroredStrategy splits the global batch, so N GPUs keep the guide's batch and rate.
    batch_size: int = _option(
        32, "examples per training step: the global batch, split over the GPUs (32 / N each)"
    )
    head_epochs: int = _option(20, "epochs of stage 1: the new head on the frozen base")
    head_learning_rate: float = _option(
        1e-3, "Adam learning rate of stage 1 (1e-3 is Adam()'s default, as in the guide)"
    )
    fine_tune_epochs: int = _option(
        10, "epochs of stage 2: the whole model unfrozen (0: skip fine-tuning)"
    )
    fine_tune_learning_rate: float = _option(1e-5, "Adam learning rate of stage 2")
    seed: int = _option(1337, "random seed of shuffling, augmentation and initialisation")
    deterministic: bool = _option(
        False,
        "TensorFlow op determinism (enable_op_determinism): reruns give the same weights, "
        "slower; not in the guide",
    )
    training_loop: str = _option(
        "fit",
        "'fit': Keras fit(); 'custom': the guide's tf.GradientTape loop (same stages and logs)",
        TRAINING_LOOPS,
    )
    # Opt-ins that depart from the guide: all off in `full`, which is the guide exactly.
    # Without augmentation the frozen base sees the same pixels every head epoch.
    feature_cache: bool = _option(
        False,
        "opt-in: with --no-augment, run the frozen base once per example and train the head on "
        "the cached features (the guide's 'lighter workflow')",
    )
    # The guide keeps the last epoch: stage 2 starts from head epoch 20, the model is epoch 10.
    restore_best_weights: bool = _option(
        False, "opt-in: end each stage with the weights of its epoch with the lowest eval loss"
    )
    early_stopping_patience: int = _option(
        0, "opt-in: stop a stage after this many epochs without eval-loss improvement (0: never)"
    )
    mixed_precision: str = _option(
        "none",
        "compute dtype of the layers (logits and loss stay float32; float16 gets loss scaling)",
        MIXED_PRECISION_MODES,
    )
    jit_compile: bool = _option(False, "compile the training step with XLA")


@dataclass(frozen=True)
class EvaluationConfig:
    """What it takes for a model to be blessed and pushed."""

    min_accuracy: float = _option(
        0.95, "bless only a model whose test accuracy is at least this (a fraction)"
    )
    max_accuracy_drop: float = _option(
        0.01,
        "bless only a model whose test accuracy is at most this much (a fraction) below the "
        "latest blessed model's; skipped on the first run",
    )
    model_name: str = _option(
        "cats_vs_dogs",
        "directory name of the model under the serving dir: <serving dir>/<name>/N (default: "
        "the dataset's name)",
    )


@dataclass(frozen=True)
class RunnerConfig:
    """Where the run writes and how Beam executes locally."""

    pipeline_name: str = _option(
        "image-transfer-learning", "pipeline name in ML Metadata and on Kubeflow"
    )
    output_dir: str = _option(
        "outputs", "where runs write: pipeline_root/, metadata.sqlite, logs/, reports/"
    )
    serving_dir: str = _option(
        "",
        "where blessed models are published as <model name>/<version>: a local or mounted "
        "directory (atomic rename) or a bucket, gs://... or s3://... (saved_model.pb last, "
        "verified); empty: <output dir>/serving",
    )
    pipeline_root: str = _option(
        "",
        "where the components write their artifacts: a directory, or a bucket (gs://...) "
        "that a distributed Beam runner's workers reach; empty: <output dir>/pipeline_root",
    )
    beam_direct_running_mode: str = _option(
        "in_memory",
        "how Beam's DirectRunner runs (in_memory is ~30% faster than multi_processing on 2 cores)",
        BEAM_RUNNING_MODES,
    )
    beam_direct_num_workers: int = _option(1, "parallel workers of Beam's DirectRunner")
    beam_runner: str = _option(
        "DirectRunner",
        "Beam runner of ExampleGen, StatisticsGen, Transform and the Evaluator, locally and "
        "on Kubeflow: " + ", ".join(BEAM_RUNNER_REQUIRED_OPTIONS),
        tuple(BEAM_RUNNER_REQUIRED_OPTIONS),
    )
    beam_options: str = _option(
        "",
        "the runner's Beam flags as --name=value, e.g. "
        "'--project=p --region=r --temp_location=gs://b/tmp' (README: Beam runners)",
    )
    enable_cache: bool = _option(
        True, "reuse the outputs of components whose inputs and settings did not change"
    )
    verbose: bool = _option(
        False,
        "show library output (TensorFlow, TFDS, Beam, absl) on the terminal too; "
        "a run keeps it in its log file either way",
    )


@dataclass(frozen=True)
class KubeflowConfig:
    """How the pipeline runs on Kubeflow Pipelines v2: image, Trainer GPUs, Beam, API, schedule.

    Only `python -m kubeflow` reads this section, and only it validates it
    (`kubeflow.config_checks`); local runs ignore it.
    """

    image: str = _option(
        "tfx-image-transfer:0.1.0", "container image of every step (the top-level Dockerfile)"
    )
    trainer_cpu: str = _option("8", "CPU request of the Trainer, a Kubernetes quantity: 8, 500m")
    trainer_memory: str = _option(
        "32G", "memory request of the Trainer, a Kubernetes quantity: 32G, 16Gi"
    )
    trainer_gpus: int = _option(1, "GPUs of the Trainer (0: run it on CPU nodes)")
    trainer_accelerator: str = _option(
        "nvidia.com/gpu", "the extended resource the GPU device plugin offers"
    )
    trainer_retries: int = _option(
        3, "retries of a Trainer pod that dies (a preempted node); each resumes its training"
    )
    # Argo stops retrying this long after the Trainer's FIRST attempt started, and gives a
    # retried pod this deadline: it must cover the whole training, retries included.
    trainer_max_hours: int = _option(
        48,
        "upper bound of the Trainer's run time, retries included, in hours: no retry starts, "
        "and a retried pod is stopped, this long after its first attempt started",
    )
    gpu_node_selector: str = _option(
        "nvidia.com/gpu.present=true", "where GPU Trainers go: label=value,..."
    )
    gpu_tolerations: str = _option(
        "nvidia.com/gpu:NoSchedule", "taints GPU Trainers tolerate: key[=value]:Effect,..."
    )
    # What each Beam-powered task's pod requests (a pod without requests is the first evicted).
    beam_cpu: str = _option("2", "CPU request of each Beam-powered step, a Kubernetes quantity")
    beam_memory: str = _option(
        "8G", "memory request of each Beam-powered step, a Kubernetes quantity"
    )
    beam_setup_file: str = _option(
        "/pipeline/setup.py", "setup.py that ships this project to Beam workers (image path)"
    )
    kfp_host: str = _option("", "KFP API endpoint; empty: $KF_PIPELINES_ENDPOINT")
    kfp_namespace: str = _option("", "profile namespace on multi-user Kubeflow; empty: single-user")
    kfp_experiment: str = _option("image-transfer-learning", "KFP experiment of the runs")
    # Where KFP records every run, and where the baseline (latest blessed model) is looked up.
    kfp_mlmd_host: str = _option(
        "metadata-grpc-service.kubeflow", "the cluster's ML Metadata gRPC host, as pods reach it"
    )
    kfp_mlmd_port: int = _option(MLMD_GRPC_PORT, "the cluster's ML Metadata gRPC port")
    # The model server mounts the claim too: versions are published by atomic rename.
    serving_pvc: str = _option(
        "", "PersistentVolumeClaim mounted at --serving-dir in the Pusher's pod"
    )
    cron: str = _option(
        "0 0 3 * * *", "schedule, in KFP's 6-field cron: seconds minutes hours day month weekday"
    )
    max_concurrency: int = _option(1, "scheduled runs allowed at the same time")


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
        if "dataset_name" in overrides and "model_name" not in overrides:
            # A model is named after what it learns: another dataset, another model, never a
            # new version of the profile's (whose classes may differ).
            merged["model_name"] = re.sub(r"[^\w.-]+", "_", overrides["dataset_name"])
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
        if self.runner.pipeline_root:
            return _absolute_location(self.runner.pipeline_root)
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

    def beam_pipeline_args(self, setup_file: str = LOCAL_SETUP_FILE) -> list[str]:
        """The Beam runner's flags, and the setup.py that ships this project to its workers.

        `setup_file` is this checkout's setup.py for a local run, the image's on Kubeflow.
        A distributed runner builds the project from it and installs it on every worker
        (the TfdsExampleGen source, `trainer_module.preprocessing`). The DirectRunner runs
        in this interpreter and stages nothing; `--setup_file` is there too because
        without any staging flag TFX builds an sdist of its own install for every Beam
        component (`tfx.utils.dependency_utils.make_beam_dependency_flags`: seconds each,
        and a copy of TFX left in the temp dir), which no local run reads.
        """
        runner = self.runner
        direct = [
            f"--direct_running_mode={runner.beam_direct_running_mode}",
            f"--direct_num_workers={runner.beam_direct_num_workers}",
        ]
        return [
            f"--runner={runner.beam_runner}",
            *(direct if runner.beam_runner == "DirectRunner" else []),
            *([f"--setup_file={setup_file}"] if setup_file else []),
            *runner.beam_options.split(),
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


# URI schemes TensorFlow's file systems read (s3:// needs tensorflow-io installed; ram:// is
# TensorFlow's in-memory file system, for tests).
URI_SCHEMES = ("gs", "s3", "ram")


def is_remote_location(location: str) -> bool:
    """Whether `location` is a URI (gs://, s3://, ...) rather than a local path."""
    return re.match(r"^[a-z][a-z0-9+.-]*://", location) is not None


def uri_scheme(location: str) -> str:
    """The URI scheme of `location` ("gs" for gs://b/x); "" for a local path."""
    return location.split("://", 1)[0] if is_remote_location(location) else ""


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
    for flag, location in (
        ("output-dir", runner.output_dir),
        ("data-dir", data.data_dir),
        ("serving-dir", runner.serving_dir),
        ("pipeline-root", runner.pipeline_root),
    ):
        scheme = uri_scheme(location)
        if scheme and scheme not in URI_SCHEMES:
            problems.append(
                f"--{flag} {location!r}: {scheme}:// is not a file system this project reads; "
                "use a local path, gs://BUCKET/... or s3://BUCKET/..."
            )
    for flag, fraction in (
        ("eval-fraction", data.eval_fraction),
        ("test-fraction", data.test_fraction),
    ):
        if not 0.01 <= fraction <= 0.4:
            problems.append(f"--{flag} {fraction} must be between 0.01 and 0.4")
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
    return problems + _beam_runner_problems(runner)


def _beam_runner_problems(runner: RunnerConfig) -> list[str]:
    """A runner we do not know, or its required options missing, each with the fix."""
    required = BEAM_RUNNER_REQUIRED_OPTIONS.get(runner.beam_runner)
    if required is None:
        return [
            f"--beam-runner {runner.beam_runner!r}: use one of "
            f"{', '.join(BEAM_RUNNER_REQUIRED_OPTIONS)}"
        ]
    problems = []
    options = runner.beam_options.split()
    if any(not option.startswith("--") for option in options):
        flags = f"--beam-options {runner.beam_options!r}: write Beam flags as --name=value"
        return [*problems, flags]
    given = {option.split("=", 1)[0] for option in options}
    missing = [option for option in required if option not in given]
    if missing:
        problems.append(
            f"--beam-runner {runner.beam_runner} needs {', '.join(missing)}: add them to "
            f"--beam-options, e.g. --beam-options='{' '.join(o + '=...' for o in missing)}'"
        )
    return problems


def _choice_problems(*fields: tuple[str, str, tuple[str, ...]]) -> list[str]:
    """One problem per (flag, value, allowed values) whose value is not allowed."""
    return [
        f"--{flag} {value!r}: use one of {', '.join(choices)}"
        for flag, value, choices in fields
        if value not in choices
    ]
