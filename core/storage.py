"""Files wherever they live: local paths through `os`, URIs (gs://, ram://) through TensorFlow.

The data, the pipeline root and the serving directory may each be a local path or a
bucket. Local paths are read with the standard library, so the commands that only
read ML Metadata and a few files (`models list`) never import TensorFlow; a URI is read
through `tf.io.gfile`, the file systems TFX itself writes with, imported when first
needed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import IO

from core.config import is_remote_location


class Files:
    """The few file-system calls the project makes, on local paths (the standard library)."""

    @staticmethod
    def join(*parts: str) -> str:
        return os.path.join(*parts)

    @staticmethod
    def exists(path: str) -> bool:
        return os.path.exists(path)

    @staticmethod
    def isdir(path: str) -> bool:
        return os.path.isdir(path)

    @staticmethod
    def listdir(path: str) -> list[str]:
        return os.listdir(path)

    @staticmethod
    def makedirs(path: str) -> None:
        os.makedirs(path, exist_ok=True)

    @staticmethod
    def open(path: str, mode: str = "r") -> IO:
        return open(path, mode)  # noqa: SIM115 - the caller closes it

    @staticmethod
    def copy(source: str, target: str) -> None:
        shutil.copyfile(source, target)

    @staticmethod
    def remove(path: str) -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)

    @staticmethod
    def walk(path: str) -> Iterator[tuple[str, list[str], list[str]]]:
        return os.walk(path)

    @staticmethod
    def stat(path: str) -> tuple[int, int]:
        """(size in bytes, modification time in ns)."""
        stat = os.stat(path)
        return stat.st_size, stat.st_mtime_ns


class RemoteFiles(Files):
    """The same calls through TensorFlow's file systems (gs://, ram://, s3:// where installed)."""

    def __init__(self):
        import tensorflow as tf  # only for URIs: TFX reads and writes them the same way

        self._gfile = tf.io.gfile

    @staticmethod
    def join(*parts: str) -> str:
        return "/".join(part.rstrip("/") for part in parts)

    def exists(self, path: str) -> bool:
        return self._gfile.exists(path)

    def isdir(self, path: str) -> bool:
        return self._gfile.isdir(path)

    def listdir(self, path: str) -> list[str]:
        return [name.rstrip("/") for name in self._gfile.listdir(path)]

    def makedirs(self, path: str) -> None:
        self._gfile.makedirs(path)

    def open(self, path: str, mode: str = "r") -> IO:
        return self._gfile.GFile(path, mode)

    def copy(self, source: str, target: str) -> None:
        self._gfile.copy(source, target, overwrite=True)

    def remove(self, path: str) -> None:
        if self._gfile.isdir(path):
            self._gfile.rmtree(path)
        elif self._gfile.exists(path):
            self._gfile.remove(path)

    def walk(self, path: str) -> Iterator[tuple[str, list[str], list[str]]]:
        for folder, dirs, files in self._gfile.walk(path):
            yield folder, [d.rstrip("/") for d in dirs], files

    def stat(self, path: str) -> tuple[int, int]:
        stat = self._gfile.stat(path)
        return stat.length, stat.mtime_nsec


_REMOTE: list[RemoteFiles] = []


def files_for(location: str) -> Files:
    """The file system of `location`: `Files` for a local path, `RemoteFiles` for a URI."""
    if not is_remote_location(location):
        return Files()
    if not _REMOTE:
        _REMOTE.append(RemoteFiles())
    return _REMOTE[0]


def size_of(location: str) -> int:
    """Bytes under `location` (a file or a directory tree); 0 when it does not exist."""
    files = files_for(location)
    if not files.exists(location):
        return 0
    if not files.isdir(location):
        return files.stat(location)[0]
    return sum(
        files.stat(files.join(folder, name))[0]
        for folder, _, names in files.walk(location)
        for name in names
    )
