"""Opens a prepared TFDS dataset offline and resolves split strings to file shards.

Shared by the executor (before its Beam job starts) and the pipeline's
preflight (before any component runs), so both report a missing dataset, a bad
split string or a missing feature with the same message.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

import tensorflow as tf
import tensorflow_datasets as tfds


class DatasetUnavailableError(RuntimeError):
    """The TFDS dataset is not prepared in the data dir; the message says how to prepare it."""


class SplitError(ValueError):
    """A split string does not parse, or selects no examples."""


class FeatureKeyError(ValueError):
    """The configured image or label feature is not a feature of the dataset."""


@dataclass(frozen=True)
class ShardSlice:
    """`take` records after skipping `skip` in one TFRecord shard of the dataset."""

    filename: str
    skip: int
    take: int

    def example_ids(self) -> list[str]:
        """TFDS's own example ids ('<shard file>__<index>'), stable across runs."""
        shard = os.path.basename(self.filename)
        return [f"{shard}__{index}" for index in range(self.skip, self.skip + self.take)]


def open_prepared_builder(
    name: str, data_dir: str, version: str = "", download: bool = False
) -> tfds.core.DatasetBuilder:
    """Returns the builder of a dataset prepared under `data_dir`.

    Nothing is downloaded unless `download` is true: offline, a dataset that is
    not prepared fails here at once with the commands that prepare it.
    """
    spec = f"{name}:{version}" if version else name
    searched = os.path.join(data_dir, name)
    try:
        builder = tfds.builder(spec, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as error:
        raise DatasetUnavailableError(_how_to_prepare(name, data_dir, searched, version)) from error
    if not builder.is_prepared():
        if not download:
            raise DatasetUnavailableError(_how_to_prepare(name, data_dir, searched, version))
        builder.download_and_prepare()
    return builder


def prepared_versions(data_dir: str, name: str) -> list[str]:
    """The versions of `name` prepared under `data_dir` (folders with a dataset_info.json)."""
    folder = os.path.join(data_dir, name)
    if not tf.io.gfile.isdir(folder):
        return []
    return sorted(
        (
            entry.rstrip("/")
            for entry in tf.io.gfile.listdir(folder)
            if re.fullmatch(r"\d+\.\d+\.\d+/?", entry)
            and tf.io.gfile.exists(os.path.join(folder, entry.rstrip("/"), "dataset_info.json"))
        ),
        key=lambda v: tuple(int(part) for part in v.split(".")),
    )


def check_feature_keys(builder: tfds.core.DatasetBuilder, image_key: str, label_key: str) -> None:
    """Raises FeatureKeyError unless both configured features exist in the dataset."""
    known = sorted(builder.info.features.keys())
    missing = [
        f"--{flag} {key!r}"
        for flag, key in (("image-key", image_key), ("label-key", label_key))
        if key not in known
    ]
    if missing:
        raise FeatureKeyError(
            f"{' and '.join(missing)}: no such feature in {builder.name}; "
            f"its features are {', '.join(known)}"
        )


def class_names(builder: tfds.core.DatasetBuilder, label_key: str) -> list[str]:
    """The label's ClassLabel names in label order; [] when the label is no ClassLabel."""
    label = builder.info.features[label_key]
    return list(label.names) if isinstance(label, tfds.features.ClassLabel) else []


def resolve_splits(
    builder: tfds.core.DatasetBuilder, splits: Mapping[str, str]
) -> dict[str, list[ShardSlice]]:
    """Output split name -> its shard slices; one SplitError lists every bad split string."""
    slices, problems = {}, []
    for name, split in splits.items():
        try:
            slices[name] = shard_slices(builder, split)
        except SplitError as error:
            problems.append(f"output split {name!r}: {error}")
    if problems:
        raise SplitError("; ".join(problems))
    return slices


def overlapping_splits(slices: Mapping[str, list[ShardSlice]]) -> list[str]:
    """Describes each pair of output splits that share examples (allowed, but usually a mistake)."""
    warnings = []
    for (first, a), (second, b) in itertools.combinations(slices.items(), 2):
        shared = sum(
            max(0, min(x.skip + x.take, y.skip + y.take) - max(x.skip, y.skip))
            for x in a
            for y in b
            if x.filename == y.filename
        )
        if shared:
            warnings.append(
                f"splits {first!r} and {second!r} share {shared} examples: "
                "the same images will be in both"
            )
    return warnings


def shard_slices(builder: tfds.core.DatasetBuilder, split: str) -> list[ShardSlice]:
    """The shard slices that make up `split` (e.g. 'train[:40%]'), in dataset order."""
    try:
        info = builder.info.splits[split]
    except (ValueError, KeyError, TypeError, AssertionError) as error:
        known = ", ".join(builder.info.splits.keys())
        raise SplitError(
            f"split {split!r} of {builder.name}: {error}. Known splits: {known}; "
            "write e.g. 'train[:40%]'"
        ) from error
    slices = [
        ShardSlice(os.fspath(instruction.filename), instruction.skip, instruction.take)
        for instruction in info.file_instructions
        if instruction.take != 0
    ]
    if not slices or info.num_examples == 0:
        raise SplitError(f"split {split!r} of {builder.name} selects no examples")
    return slices


def _how_to_prepare(name: str, data_dir: str, searched: str, version: str = "") -> str:
    prepared = prepared_versions(data_dir, name)
    if version and prepared:
        return (
            f"version {version} of TFDS dataset {name!r} is not prepared in --data-dir "
            f"{data_dir}; prepared there: {', '.join(prepared)}. Pass --dataset-version "
            f"{prepared[-1]}, or leave it out to read the newest"
        )
    sample_hint = (
        "Generate it with:  python -m pipeline generate-sample --data-dir " + data_dir
        if name == "cats_vs_dogs_sample"
        else (
            "Prepare it once where the internet is reachable, then copy the directory here:\n"
            f"    tfds build {name} --data_dir {data_dir}\n"
            "  or, with the archive downloaded by hand into a manual dir:\n"
            f"    tfds build {name} --data_dir {data_dir} --manual_dir DIR_WITH_ARCHIVE"
        )
    )
    return (
        f"TFDS dataset {name!r} is not prepared in --data-dir {data_dir} "
        f"(searched {searched}). {sample_hint}"
    )
