"""The TF Serving layout `<serving_dir>/<model_name>/<version>/`, written atomically.

TF Serving (and `pipeline.predict`) load the highest integer-named directory
and ignore every other name. A version is copied into a hidden temporary
directory next to the versions, then renamed into place: a rename within one
file system is atomic, so a reader sees either no version or a complete one,
even when the writer is killed half-way (the hidden directory is left behind,
and ignored).
"""

from __future__ import annotations

import os
import shutil
import tempfile

_INCOMING_PREFIX = ".incoming-"


def versions(model_serving_dir: str) -> list[int]:
    """The published versions, ascending; [] when nothing was published yet."""
    if not os.path.isdir(model_serving_dir):
        return []
    return sorted(int(name) for name in os.listdir(model_serving_dir) if name.isdigit())


def incomplete_copies(model_serving_dir: str) -> list[str]:
    """Temporary copies left by interrupted publications (never loaded by a server)."""
    if not os.path.isdir(model_serving_dir):
        return []
    return sorted(
        os.path.join(model_serving_dir, name)
        for name in os.listdir(model_serving_dir)
        if name.startswith(_INCOMING_PREFIX)
    )


def publish_version(saved_model_dir: str, model_serving_dir: str) -> tuple[int, str]:
    """Copies a SavedModel in as the next version (highest + 1, starting at 1).

    Returns:
        (version, path of the version directory).
    Raises:
        FileNotFoundError: `saved_model_dir` holds no saved_model.pb.
        ValueError: `model_serving_dir` is a URL (gs://, s3://): object stores
            have no atomic rename, so the layout's promise cannot be kept there.
    """
    if "://" in model_serving_dir:
        raise ValueError(
            f"cannot publish atomically to {model_serving_dir}: use a local or mounted "
            "directory (object stores have no atomic rename)"
        )
    if not os.path.exists(os.path.join(saved_model_dir, "saved_model.pb")):
        raise FileNotFoundError(f"no SavedModel in {saved_model_dir} (saved_model.pb missing)")
    os.makedirs(model_serving_dir, exist_ok=True)
    incoming = tempfile.mkdtemp(prefix=_INCOMING_PREFIX, dir=model_serving_dir)
    try:
        copy = os.path.join(incoming, "model")
        shutil.copytree(saved_model_dir, copy)
        while True:
            version = max(versions(model_serving_dir), default=0) + 1
            target = os.path.join(model_serving_dir, str(version))
            try:
                # Fails instead of overwriting if another writer took this number first.
                os.rename(copy, target)
            except OSError:
                if os.path.isdir(target):
                    continue
                raise
            return version, target
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
