"""A fingerprint of the prepared TFDS files TfdsExampleGen reads, for TFX's cache key.

TFX's file-based ExampleGens record a span/version/fingerprint of their input
files; TfdsExampleGen names its input by dataset name and version only, so a
dataset re-prepared in place (same name and version, other files) would be
served from cache, and so would everything downstream. This fingerprint is an
execution property computed when the pipeline is built: when the files change,
TFX's cache key changes and ExampleGen runs again.

It reads only file names, sizes and modification times (no file contents, no
TensorFlow import): cheap enough for every `run` and `compile`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable

# TFDS's metadata files, next to the shards in a prepared version directory.
_METADATA_FILES = ("dataset_info.json", "features.json")
# A remote data dir (gs://, s3://) is read by the cluster, not from here.
NOT_LOCAL = "not-fingerprinted:remote-data-dir"
NOT_PREPARED = "not-fingerprinted:not-prepared"


def data_fingerprint(
    data_dir: str, dataset_name: str, version: str, split_patterns: Iterable[str]
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
        A hex digest, or a `not-fingerprinted:` marker when the files cannot be
        seen from here (remote or not prepared; preflight reports the latter).
    """
    if "://" in data_dir:
        return NOT_LOCAL
    version_dir = _version_dir(os.path.join(data_dir, dataset_name), version)
    if version_dir is None:
        return NOT_PREPARED
    splits = {name for pattern in split_patterns for name in _split_names(pattern)}
    digest = hashlib.sha256(os.path.basename(version_dir).encode())
    for name in sorted(os.listdir(version_dir)):
        if name in _METADATA_FILES or any(f"-{split}." in name for split in splits):
            stat = os.stat(os.path.join(version_dir, name))
            digest.update(f"\0{name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _version_dir(dataset_dir: str, version: str) -> str | None:
    if version:
        path = os.path.join(dataset_dir, version)
        return path if os.path.isdir(path) else None
    if not os.path.isdir(dataset_dir):
        return None
    prepared = [
        name
        for name in os.listdir(dataset_dir)
        if re.fullmatch(r"\d+\.\d+\.\d+", name)
        and os.path.exists(os.path.join(dataset_dir, name, "dataset_info.json"))
    ]
    if not prepared:
        return None
    newest = max(prepared, key=lambda v: tuple(int(p) for p in v.split(".")))
    return os.path.join(dataset_dir, newest)


def _split_names(pattern: str) -> list[str]:
    """'train[:40%]+test' -> ['train', 'test']."""
    return [m.group(0) for part in pattern.split("+") if (m := re.match(r"\w+", part.strip()))]
