"""A fingerprint of the prepared TFDS files TfdsExampleGen reads, for TFX's cache key.

TFX's file-based ExampleGens record a span/version/fingerprint of their input
files; TfdsExampleGen names its input by dataset name and version only, so a
dataset re-prepared in place (same name and version, other files) would be
served from cache, and so would everything downstream. This fingerprint is an
execution property computed when the pipeline is built: when the files change,
TFX's cache key changes and ExampleGen runs again.

It reads only file names, sizes and modification times (no file contents):
cheap enough for every `run`. A remote data dir (gs://, s3://) is listed through
TensorFlow's file systems. On Kubeflow it is taken by a task of each run
(components/data_fingerprint), never by the machine that compiles the pipeline.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from core.storage import Files, files_for

# TFDS's metadata files, next to the shards in a prepared version directory.
_METADATA_FILES = ("dataset_info.json", "features.json")
_MARKER = "not-fingerprinted:"
NOT_PREPARED = f"{_MARKER}not-prepared"


def data_fingerprint(
    data_dir: str,
    dataset_name: str,
    version: str,
    split_patterns: Iterable[str],
) -> str:
    """Hashes the dataset version and the name, size and mtime of each selected file.

    Args:
        data_dir: the TFDS data dir.
        dataset_name: e.g. "cats_vs_dogs".
        version: e.g. "4.0.1"; empty: the newest version prepared (as TFDS picks it).
        split_patterns: TFDS split strings ("train[:40%]", "train+test"); the
            shards of the TFDS splits they name are fingerprinted, plus the
            dataset's metadata files.

    Returns:
        A hex digest, or the `NOT_PREPARED` marker when the dataset is not prepared
        there (preflight reports that).
    """
    files = files_for(data_dir)
    version = _version(files, files.join(data_dir, dataset_name), version)
    if version is None:
        return NOT_PREPARED
    version_dir = files.join(data_dir, dataset_name, version)
    splits = {name for pattern in split_patterns for name in _split_names(pattern)}
    digest = hashlib.sha256(version.encode())
    for name in sorted(files.listdir(version_dir)):
        if name in _METADATA_FILES or any(f"-{split}." in name for split in splits):
            size, mtime = files.stat(files.join(version_dir, name))
            digest.update(f"\0{name}\0{size}\0{mtime}".encode())
    return digest.hexdigest()


def _version(files: Files, dataset_dir: str, version: str) -> str | None:
    """The prepared version directory's name: `version`, or the newest one prepared."""
    if version:
        return version if files.isdir(files.join(dataset_dir, version)) else None
    if not files.isdir(dataset_dir):
        return None
    prepared = [
        name
        for name in files.listdir(dataset_dir)
        if re.fullmatch(r"\d+\.\d+\.\d+", name)
        and files.exists(files.join(dataset_dir, name, "dataset_info.json"))
    ]
    if not prepared:
        return None
    return max(prepared, key=lambda v: tuple(int(p) for p in v.split(".")))


def _split_names(pattern: str) -> list[str]:
    """'train[:40%]+test' -> ['train', 'test']."""
    return [m.group(0) for part in pattern.split("+") if (m := re.match(r"\w+", part.strip()))]


def is_fingerprint(value: str) -> bool:
    """Whether `value` fingerprints files (rather than saying why they could not be)."""
    return bool(value) and not value.startswith(_MARKER)
