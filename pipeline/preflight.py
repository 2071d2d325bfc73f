"""Checks, before any component runs, that the data and weights a run needs are here."""

from __future__ import annotations

import logging

from components.tfds_example_gen import tfds_source
from core.config import PipelineConfig, is_remote_location, uri_scheme
from trainer_module.model import WeightsUnavailableError, resolve_weights


class PreflightError(RuntimeError):
    """Something the run needs is missing; the message says what and how to provide it."""


def _class_count_problems(builder, label_key: str, num_classes: int) -> list[str]:
    """The model's output size is built from --num-classes: it must be the ClassLabel's."""
    names = tfds_source.class_names(builder, label_key)
    if names and len(names) != num_classes:
        return [
            f"--num-classes {num_classes}, but {builder.name}'s {label_key!r} has "
            f"{len(names)} classes ({', '.join(names)}): pass --num-classes {len(names)}"
        ]
    return []


def with_the_datasets_class_count(config: PipelineConfig) -> PipelineConfig:
    """`config` with --num-classes the dataset's label has, when no flag gave it: the data
    says how many classes there are. Unchanged when the dataset is not prepared (yet) or
    its label is no ClassLabel; check_inputs then says what is wrong."""
    data = config.data
    try:
        builder = tfds_source.open_prepared_builder(
            data.dataset_name, config.data_dir, data.dataset_version
        )
        names = tfds_source.class_names(builder, data.label_key)
    except (tfds_source.DatasetUnavailableError, KeyError):
        return config
    return config.replace(num_classes=len(names)) if len(names) >= 2 else config


def _unreachable_by_the_workers(config: PipelineConfig) -> list[str]:
    """A local run on Dataflow writes where its workers read: not this machine's disk."""
    if config.runner.beam_runner != "DataflowRunner":
        return []
    locations = {"--pipeline-root": config.pipeline_root, "--data-dir": config.data_dir}
    return [
        f"--beam-runner DataflowRunner: its workers cannot reach {where} on this machine's "
        f"disk; give {flag} gs://BUCKET/..."
        for flag, where in locations.items()
        if not is_remote_location(where)
    ]


def _file_systems_missing(config: PipelineConfig) -> list[str]:
    """A bucket this process cannot write: TensorFlow 2.16 reads gs:// by itself, but s3://
    only with tensorflow-io installed. Found now, not by the Pusher after the training."""
    import tensorflow as tf

    registered = set(tf.io.gfile.get_registered_schemes())
    locations = {
        "--data-dir": config.data_dir,
        "--pipeline-root": config.pipeline_root,
        "--serving-dir": config.serving_dir,
    }
    problems = []
    for flag, location in locations.items():
        scheme = uri_scheme(location)
        if scheme and scheme not in registered:
            problems.append(
                f"{flag} {location}: this TensorFlow has no {scheme}:// file system (it reads "
                f"{', '.join(sorted(s for s in registered if s))}); for s3:// install "
                "tensorflow-io into the environment, or choose another location"
            )
    return problems


def check_inputs(config: PipelineConfig) -> dict[str, int]:
    """Checks, in seconds, what the pipeline would otherwise discover minutes in.

    Args:
        config: a validated configuration.

    Returns:
        Output split name -> number of examples of its TFDS split.

    Raises:
        PreflightError: every missing input (dataset, split, feature key, weights file,
            a bucket's file system), each with how to provide it.
    """
    problems = _unreachable_by_the_workers(config) + _file_systems_missing(config)
    split_sizes: dict[str, int] = {}
    data = config.data
    try:
        builder = tfds_source.open_prepared_builder(
            data.dataset_name, config.data_dir, data.dataset_version, download=data.download
        )
        try:
            tfds_source.check_feature_keys(builder, data.image_key, data.label_key)
            problems += _class_count_problems(builder, data.label_key, data.num_classes)
        except tfds_source.FeatureKeyError as error:
            problems.append(str(error))
        slices = {}
        for name, split in data.splits().items():
            try:
                slices[name] = tfds_source.shard_slices(builder, split)
                split_sizes[name] = builder.info.splits[split].num_examples
            except tfds_source.SplitError as error:
                problems.append(f"--{name}-split: {error}")
        for overlap in tfds_source.overlapping_splits(slices):
            logging.warning(overlap)
    except tfds_source.DatasetUnavailableError as error:
        problems.append(str(error))
    try:
        resolve_weights(config.training.weights, config.training.backbone, data.image_size)
    except WeightsUnavailableError as error:
        problems.append(str(error))
    if problems:
        raise PreflightError(
            "cannot start the pipeline:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return split_sizes
