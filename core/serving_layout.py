"""The TF Serving layout `<serving_dir>/<model_name>/<version>/`, on a disk or in a bucket.

TF Serving (and `pipeline.predict`) load the highest integer-named directory
and ignore every other name.

On a local or mounted directory a version is copied into a hidden temporary
directory next to the versions, then renamed into place: a rename within one
file system is atomic, so a reader sees either no version or a complete one,
even when the writer is killed half-way (the hidden directory is left behind,
ignored, and removed by the next publication once its writer is dead).

A bucket (gs://, s3://) has no rename, only objects written one by one. There a
version is first copied under a hidden name and checked against its content
digest; then its number is claimed (`claim`: in ML Metadata, whose unique context
names make it a compare-and-set, so two publishers never take one number); then it
is copied into `<version>/` with `saved_model.pb` last, as TFX's own Pusher does:
a server polling the bucket finds no loadable model until the last object is there.
The published copy is checked against the digest once more.

Each version records a content digest of the SavedModel it holds
(`assets.extra/content_digest.sha256`; TF Serving ignores `assets.extra`), so
"is this model already the latest version?" is one comparison, and publishing
the same model twice can be refused by the caller (`serving_version_of`).

A version may carry warm-up requests (`assets.extra/tf_serving_warmup_requests`, real
requests TF Serving replays as it loads the version, so the first clients are not
served by a cold model). They are not part of the content digest: they are chosen
from the test split by the serving check, so the same model checked on other data
carries other requests, and it is still the same model (already serving, not a new
version). The copy's digest check covers the model; the warm-up file is compared by
its size.

A version may also record the identity of its training (the data and recipe it
was trained from, `assets.extra/training_identity`). A retrained model is never
byte-identical to the one serving (timings, nondeterministic kernels), so a
scheduled run that retrains on unchanged data and code is recognised by this
identity instead of by its bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable

from core.config import is_remote_location
from core.storage import Files, files_for, size_of

_INCOMING_PREFIX = ".incoming-"
SAVED_MODEL_FILE = "saved_model.pb"
DIGEST_FILE = os.path.join("assets.extra", "content_digest.sha256")
IDENTITY_FILE = os.path.join("assets.extra", "training_identity")
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
# Written into a version when it is published: not part of the model's content.
_RECORDS = (DIGEST_FILE, IDENTITY_FILE, WARMUP_FILE)


class PublishError(RuntimeError):
    """A version could not be published; the message says why and what to do."""


def versions(model_serving_dir: str) -> list[int]:
    """The published versions, ascending; [] when nothing was published yet."""
    files = files_for(model_serving_dir)
    if not files.isdir(model_serving_dir):
        return []
    return sorted(int(name) for name in files.listdir(model_serving_dir) if name.isdigit())


def incomplete_copies(model_serving_dir: str) -> list[str]:
    """Temporary copies left by interrupted publications (never loaded by a server)."""
    if not os.path.isdir(model_serving_dir):
        return []
    return sorted(
        os.path.join(model_serving_dir, name)
        for name in os.listdir(model_serving_dir)
        if name.startswith(_INCOMING_PREFIX)
    )


def model_files(saved_model_dir: str) -> list[str]:
    """Relative paths of a SavedModel's files, sorted, `saved_model.pb` last (the order a
    publication writes them in: a server loads nothing before the last one is there)."""
    files = files_for(saved_model_dir)
    root = saved_model_dir.rstrip("/")
    found = [
        files.join(folder, name)[len(root) + 1 :]
        for folder, _, names in files.walk(saved_model_dir)
        for name in names
    ]
    return sorted(found, key=lambda path: (path == SAVED_MODEL_FILE, path))


def content_digest(saved_model_dir: str) -> str:
    """SHA-256 over the relative path and bytes of every file (the publication records excepted)."""
    files = files_for(saved_model_dir)
    digest = hashlib.sha256()
    for relative in sorted(model_files(saved_model_dir)):
        if relative in _RECORDS:
            continue
        digest.update(relative.encode() + b"\0")
        with files.open(files.join(saved_model_dir, relative), "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def recorded_digest(version_dir: str) -> str:
    """The digest recorded when the version was published; computed for older versions."""
    return _read_record(version_dir, DIGEST_FILE) or content_digest(version_dir)


def recorded_identity(version_dir: str) -> str:
    """The training identity recorded when the version was published; "" if none was."""
    return _read_record(version_dir, IDENTITY_FILE)


def _read_record(version_dir: str, record: str) -> str:
    files = files_for(version_dir)
    path = files.join(version_dir, record)
    if not files.exists(path):
        return ""
    with files.open(path) as f:
        return f.read().strip()


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
    path = files_for(model_serving_dir).join(model_serving_dir, str(published[-1]))
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


Claim = Callable[[int], bool]  # reserves a version number; False if another publisher has it


def publish_version(
    saved_model_dir: str,
    model_serving_dir: str,
    training_identity: str = "",
    claim: Claim | None = None,
    warmup_requests: str = "",
) -> tuple[int, str]:
    """Copies a SavedModel in as the next version (highest + 1, starting at 1).

    The copy records its content digest, and `training_identity` when given.

    Args:
        saved_model_dir: the SavedModel to publish.
        model_serving_dir: `<serving dir>/<model name>`, a local path or a bucket URI.
        training_identity: recorded in the version (`serving_version_of`).
        claim: needed for a bucket: reserves a version number once for all
            publishers (`core.metadata.models.version_claims`); a local directory
            needs none (an atomic rename cannot overwrite a version).
        warmup_requests: a TF Serving warm-up file to ship in the version ("": none).

    Returns:
        (version, path of the version directory).

    Raises:
        FileNotFoundError: `saved_model_dir` holds no saved_model.pb.
        PublishError: a bucket without `claim`, no write access, or a copy that does
            not match its digest (nothing is left under a version's name).
    """
    source = files_for(saved_model_dir)
    if not source.exists(source.join(saved_model_dir, SAVED_MODEL_FILE)):
        raise FileNotFoundError(f"no SavedModel in {saved_model_dir} (saved_model.pb missing)")
    if is_remote_location(model_serving_dir):
        if claim is None:
            raise PublishError(
                f"publishing to {model_serving_dir} needs version numbers claimed in ML "
                "Metadata (a bucket has no atomic rename to settle a race)"
            )
        return _publish_to_bucket(
            saved_model_dir, model_serving_dir, training_identity, claim, warmup_requests
        )
    return _publish_by_rename(
        saved_model_dir, model_serving_dir, training_identity, warmup_requests
    )


def _publish_by_rename(
    saved_model_dir: str, model_serving_dir: str, training_identity: str, warmup_requests: str
) -> tuple[int, str]:
    """A local or mounted directory: a hidden copy, renamed into place atomically."""
    try:
        os.makedirs(model_serving_dir, exist_ok=True)
    except PermissionError as error:
        raise PublishError(_no_write_access(model_serving_dir, error)) from None
    remove_abandoned_copies(model_serving_dir)
    incoming = tempfile.mkdtemp(prefix=f"{_INCOMING_PREFIX}{os.getpid()}-", dir=model_serving_dir)
    try:
        copy = os.path.join(incoming, "model")
        _copy_model(files_for(saved_model_dir), saved_model_dir, copy)
        _write_records(copy, content_digest(saved_model_dir), training_identity, warmup_requests)
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


def _publish_to_bucket(
    saved_model_dir: str,
    model_serving_dir: str,
    training_identity: str,
    claim: Claim,
    warmup_requests: str,
) -> tuple[int, str]:
    """A bucket: staged and verified under a hidden name, its number claimed, then copied into
    `<version>/` with saved_model.pb last and verified again."""
    files = files_for(model_serving_dir)
    digest = content_digest(saved_model_dir)
    staging = files.join(
        model_serving_dir, f"{_INCOMING_PREFIX}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4()}"
    )
    try:
        try:
            _copy_model(files_for(saved_model_dir), saved_model_dir, staging, files)
        except Exception as error:  # the file system's own: TensorFlow's OpError is no OSError
            raise PublishError(_no_write_access(model_serving_dir, error)) from error
        _verify(staging, digest)
        _write_records(staging, digest, training_identity, warmup_requests)
        version = max(versions(model_serving_dir), default=0) + 1
        while not claim(version) or files.exists(files.join(model_serving_dir, str(version))):
            version += 1  # another publisher has it, or a version made without a claim
        target = files.join(model_serving_dir, str(version))
        _copy_model(files, staging, target)
        try:
            _verify(target, digest, warmup_requests)
        except PublishError:
            files.remove(target)
            raise
        return version, target
    finally:
        # Best effort: after a failure the bucket may not answer; servers ignore the name.
        with contextlib.suppress(Exception):
            files.remove(staging)


def _copy_model(
    source: Files, saved_model_dir: str, target: str, files: Files | None = None
) -> None:
    """Copies the SavedModel file by file, saved_model.pb last."""
    files = files or files_for(target)
    for relative in model_files(saved_model_dir):
        destination = files.join(target, relative)
        files.makedirs(destination.rsplit("/", 1)[0])
        if source is files:
            files.copy(source.join(saved_model_dir, relative), destination)
        else:
            with source.open(source.join(saved_model_dir, relative), "rb") as f:
                data = f.read()
            with files.open(destination, "wb") as f:
                f.write(data)


def _write_records(
    version_dir: str, digest: str, training_identity: str, warmup_requests: str = ""
) -> None:
    files = files_for(version_dir)
    files.makedirs(files.join(version_dir, "assets.extra"))
    if warmup_requests:
        source = files_for(warmup_requests)
        with source.open(warmup_requests, "rb") as f:
            data = f.read()
        with files.open(files.join(version_dir, WARMUP_FILE), "wb") as f:
            f.write(data)
    with files.open(files.join(version_dir, DIGEST_FILE), "w") as f:
        f.write(digest + "\n")
    if training_identity:
        with files.open(files.join(version_dir, IDENTITY_FILE), "w") as f:
            f.write(training_identity + "\n")


def _verify(version_dir: str, digest: str, warmup_requests: str = "") -> None:
    copied = content_digest(version_dir)
    if copied != digest:
        raise PublishError(
            f"the copy in {version_dir} does not match the model (digest {copied[:12]} "
            f"instead of {digest[:12]}): nothing was published; try again"
        )
    if warmup_requests:
        copied_size = size_of(files_for(version_dir).join(version_dir, WARMUP_FILE))
        if copied_size != size_of(warmup_requests):
            raise PublishError(
                f"the warm-up requests copied to {version_dir} are incomplete "
                f"({copied_size} bytes): nothing was published; try again"
            )


def _no_write_access(model_serving_dir: str, error: Exception) -> str:
    reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return (
        f"cannot write to {model_serving_dir} ({type(error).__name__}: {reason}): check that it "
        "exists and that this process (on Kubeflow, the pods' service account) may write to "
        "it, or pass another --serving-dir; nothing was published"
    )
