"""Opens a prepared TFDS dataset offline and resolves split strings to file shards.

Shared by the executor (inside Beam) and the pipeline's preflight (before any
component runs), so both report a missing dataset or a bad split string with
the same message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import tensorflow_datasets as tfds


class DatasetUnavailableError(RuntimeError):
    """The TFDS dataset is not prepared in the data dir; the message says how to prepare it."""


class SplitError(ValueError):
    """A split string does not parse, or selects no examples."""


@dataclass(frozen=True)
class ShardSlice:
    """`take` records after skipping `skip` in one TFRecord shard of the dataset."""

    filename: str
    skip: int
    take: int


def open_prepared_builder(name: str, data_dir: str, version: str = "") -> tfds.core.DatasetBuilder:
    """Returns the builder of a dataset prepared under `data_dir`, never downloading."""
    spec = f"{name}:{version}" if version else name
    searched = os.path.join(data_dir, name)
    try:
        builder = tfds.builder(spec, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as error:
        raise DatasetUnavailableError(_how_to_prepare(name, data_dir, searched)) from error
    if not builder.is_prepared():
        raise DatasetUnavailableError(_how_to_prepare(name, data_dir, searched))
    return builder


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


def _how_to_prepare(name: str, data_dir: str, searched: str) -> str:
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
