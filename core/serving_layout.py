"""The TF Serving layout `<serving_dir>/<model_name>/<version>/`, written atomically.

TF Serving (and `pipeline.predict`) load the highest integer-named directory
and ignore every other name. A version is copied into a hidden temporary
directory next to the versions, then renamed into place: a rename within one
file system is atomic, so a reader sees either no version or a complete one,
even when the writer is killed half-way (the hidden directory is left behind,
ignored, and removed by the next publication once its writer is dead).

Each version records a content digest of the SavedModel it holds
(`assets.extra/content_digest.sha256`; TF Serving ignores `assets.extra`), so
"is this model already the latest version?" is one comparison, and publishing
the same model twice can be refused by the caller (`serving_version_of`).

A version may also record the identity of its training (the data and recipe it
was trained from, `assets.extra/training_identity`). A retrained model is never
byte-identical to the one serving (timings, nondeterministic kernels), so a
scheduled run that retrains on unchanged data and code is recognised by this
identity instead of by its bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile

_INCOMING_PREFIX = ".incoming-"
DIGEST_FILE = os.path.join("assets.extra", "content_digest.sha256")
IDENTITY_FILE = os.path.join("assets.extra", "training_identity")
# Written into a version when it is published: not part of the model's content.
_RECORDS = (DIGEST_FILE, IDENTITY_FILE)


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


def content_digest(saved_model_dir: str) -> str:
    """SHA-256 over the relative path and bytes of every file (the publication records excepted)."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(saved_model_dir):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, saved_model_dir)
            if relative in _RECORDS:
                continue
            digest.update(relative.encode() + b"\0")
            with open(path, "rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
            digest.update(b"\0")
    return digest.hexdigest()


def recorded_digest(version_dir: str) -> str:
    """The digest recorded when the version was published; computed for older versions."""
    try:
        with open(os.path.join(version_dir, DIGEST_FILE)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return content_digest(version_dir)


def recorded_identity(version_dir: str) -> str:
    """The training identity recorded when the version was published; "" if none was."""
    try:
        with open(os.path.join(version_dir, IDENTITY_FILE)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def serving_version_of(
    saved_model_dir: str, model_serving_dir: str, training_identity: str = ""
) -> tuple[int, str] | None:
    """(version, path) when the latest version holds this model, else None.

    "This model" is exactly this SavedModel, or, when `training_identity` is
    given, a model trained from the same data and recipe (its bytes may differ).
    Only the latest version counts: a model served before and replaced since
    (e.g. before a rollback) is published again when asked.
    """
    published = versions(model_serving_dir)
    if not published:
        return None
    path = os.path.join(model_serving_dir, str(published[-1]))
    same_training = bool(training_identity) and recorded_identity(path) == training_identity
    if not same_training and recorded_digest(path) != content_digest(saved_model_dir):
        return None
    return published[-1], path


def remove_abandoned_copies(model_serving_dir: str) -> list[str]:
    """Deletes the temporary copies whose writer process is gone; returns what it removed."""
    removed = []
    for path in incomplete_copies(model_serving_dir):
        pid = os.path.basename(path)[len(_INCOMING_PREFIX) :].split("-")[0]
        if pid.isdigit() and _alive(int(pid)):
            continue  # a publication in progress
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def publish_version(
    saved_model_dir: str, model_serving_dir: str, training_identity: str = ""
) -> tuple[int, str]:
    """Copies a SavedModel in as the next version (highest + 1, starting at 1).

    The copy records its content digest, and `training_identity` when given;
    copies abandoned by dead writers are removed first.

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
    remove_abandoned_copies(model_serving_dir)
    incoming = tempfile.mkdtemp(prefix=f"{_INCOMING_PREFIX}{os.getpid()}-", dir=model_serving_dir)
    try:
        copy = os.path.join(incoming, "model")
        shutil.copytree(saved_model_dir, copy)
        os.makedirs(os.path.dirname(os.path.join(copy, DIGEST_FILE)), exist_ok=True)
        with open(os.path.join(copy, DIGEST_FILE), "w") as f:
            f.write(content_digest(copy) + "\n")
        if training_identity:
            with open(os.path.join(copy, IDENTITY_FILE), "w") as f:
                f.write(training_identity + "\n")
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
