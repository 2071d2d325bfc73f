"""The TF Serving layout: integer versions, and a version appears whole or not at all."""

import os
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.metadata import models
from core.serving_layout import (
    DIGEST_FILE,
    PublishError,
    content_digest,
    incomplete_copies,
    model_files,
    publish_version,
    recorded_digest,
    recorded_identity,
    remove_abandoned_copies,
    serving_version_of,
    versions,
)
from pipeline.predict import newest_complete_versions
from tests.conftest import REPO_ROOT
from tests.core.metadata.records import create_store


def make_saved_model(path, marker: str) -> str:
    """A directory shaped like a SavedModel; publishing only copies files."""
    os.makedirs(os.path.join(path, "variables"))
    with open(os.path.join(path, "saved_model.pb"), "w") as f:
        f.write(marker)
    with open(os.path.join(path, "variables", "variables.index"), "w") as f:
        f.write(marker)
    return str(path)


def test_versions_count_up_from_one_after_the_highest(tmp_path):
    model = make_saved_model(tmp_path / "model", "a")
    serving = str(tmp_path / "serving" / "cats")
    assert publish_version(model, serving) == (1, os.path.join(serving, "1"))
    assert publish_version(model, serving)[0] == 2
    os.makedirs(os.path.join(serving, "7"))  # published by someone else
    assert publish_version(model, serving)[0] == 8
    assert versions(serving) == [1, 2, 7, 8]
    with open(os.path.join(serving, "8", "variables", "variables.index")) as f:
        assert f.read() == "a"
    assert incomplete_copies(serving) == []


def test_a_directory_without_saved_model_pb_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="saved_model.pb"):
        publish_version(str(tmp_path / "empty"), str(tmp_path / "serving"))
    assert versions(str(tmp_path / "serving")) == []


# ---- a bucket (TensorFlow's in-memory ram:// file system stands in for gs://) ----


@pytest.fixture
def bucket(request):
    """A fresh ram:// serving directory per test."""
    import tensorflow as tf

    path = f"ram://bucket-{request.node.name}/serving/cats"
    yield path
    if tf.io.gfile.exists(path.rsplit("/", 2)[0]):
        tf.io.gfile.rmtree(path.rsplit("/", 2)[0])


def claims(tmp_path, model_serving_dir: str, name: str = "mlmd.sqlite"):
    return models.version_claims(create_store(str(tmp_path / name)), model_serving_dir)


def test_a_bucket_version_is_verified_records_its_digest_and_has_saved_model_pb_last(
    tmp_path, bucket
):
    model = make_saved_model(tmp_path / "model", "a")
    assert publish_version(model, bucket, "data-1+recipe-1", claims(tmp_path, bucket)) == (
        1,
        f"{bucket}/1",
    )
    # The order a publication writes a version's files in: saved_model.pb last.
    assert model_files(f"{bucket}/1")[-1] == "saved_model.pb"
    assert recorded_digest(f"{bucket}/1") == content_digest(model) == content_digest(f"{bucket}/1")
    assert recorded_identity(f"{bucket}/1") == "data-1+recipe-1"
    # Already serving is read from the bucket.
    assert serving_version_of(model, bucket) == (1, f"{bucket}/1")
    retrained = make_saved_model(tmp_path / "retrained", "a, other bytes")
    assert serving_version_of(retrained, bucket, "data-1+recipe-1") == (1, f"{bucket}/1")
    assert versions(bucket) == [1]  # the hidden staging copy is gone


def test_two_publishers_never_take_one_number_in_a_bucket(tmp_path, bucket):
    """The number is claimed in ML Metadata before anything is written under it: a publisher
    that saw version 1 as the next one but lost the claim takes 2, and threads that publish
    at once each get their own number."""
    model = make_saved_model(tmp_path / "model", "a")
    first = claims(tmp_path, bucket)
    assert first(1)  # another publisher claimed 1 and is still copying: nothing there yet
    assert versions(bucket) == []
    assert publish_version(model, bucket, claim=claims(tmp_path, bucket))[0] == 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        taken = list(
            pool.map(
                lambda i: publish_version(model, bucket, claim=claims(tmp_path, bucket))[0],
                range(4),
            )
        )
    assert sorted(taken) == [3, 4, 5, 6]
    assert versions(bucket) == [2, 3, 4, 5, 6]


def test_a_copy_that_does_not_match_the_model_is_not_left_under_a_versions_name(tmp_path, bucket):
    """Here the staged copy changes while the number is being claimed (a stray writer)."""
    import tensorflow as tf

    model = make_saved_model(tmp_path / "model", "a")
    claim = claims(tmp_path, bucket)

    def claim_while_the_staged_copy_changes(version: int) -> bool:
        (staging,) = [n for n in tf.io.gfile.listdir(bucket) if n.startswith(".incoming-")]
        with tf.io.gfile.GFile(f"{bucket}/{staging.rstrip('/')}/saved_model.pb", "w") as f:
            f.write("other bytes")
        return claim(version)

    with pytest.raises(PublishError, match="does not match the model"):
        publish_version(model, bucket, claim=claim_while_the_staged_copy_changes)
    assert versions(bucket) == []
    assert tf.io.gfile.listdir(bucket) == []  # nor the staged copy


def test_a_bucket_needs_a_claim_store_and_a_writable_bucket(tmp_path, bucket):
    model = make_saved_model(tmp_path / "model", "a")
    with pytest.raises(PublishError, match="claimed in ML Metadata"):
        publish_version(model, bucket)
    unreachable = "gs://no-such-bucket.invalid/serving/cats"  # no network here: unreachable
    with pytest.raises(PublishError, match="cannot write to gs://no-such-bucket.invalid"):
        publish_version(model, unreachable, claim=claims(tmp_path, unreachable))


def test_a_publisher_killed_between_copy_and_rename_leaves_no_visible_version(tmp_path):
    """A real process is killed (SIGKILL) at the moment it would rename the finished copy."""
    model = make_saved_model(tmp_path / "model", "b")
    serving = str(tmp_path / "serving")
    publish_version(model, serving)
    script = textwrap.dedent(
        f"""
        import os, signal
        from core import serving_layout as serving
        os.rename = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
        serving.publish_version({model!r}, {serving!r})
        """
    )
    process = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    )
    assert process.returncode == -signal.SIGKILL
    (leftover,) = incomplete_copies(serving)
    assert os.path.exists(os.path.join(leftover, "model", "saved_model.pb"))  # copy was done
    assert versions(serving) == [1]
    assert newest_complete_versions(serving)[0][0] == os.path.join(serving, "1")
    assert publish_version(model, serving)[0] == 2  # the next writer is not confused
    assert incomplete_copies(serving) == []  # and removes the dead writer's copy


def test_the_latest_version_is_recognised_by_its_content(tmp_path):
    model = make_saved_model(tmp_path / "model", "a")
    other = make_saved_model(tmp_path / "other", "b")
    serving = str(tmp_path / "serving")
    assert serving_version_of(model, serving) is None  # nothing published yet
    version, path = publish_version(model, serving)
    with open(os.path.join(path, DIGEST_FILE)) as f:
        assert f.read().strip() == content_digest(model) == content_digest(path)
    assert serving_version_of(model, serving) == (1, path)
    assert serving_version_of(other, serving) is None
    publish_version(other, serving)
    # Only the latest counts: model is no longer what is served, so it may go again.
    assert serving_version_of(model, serving) is None
    os.remove(os.path.join(serving, "2", DIGEST_FILE))  # a version published before digests
    assert serving_version_of(other, serving)[0] == 2


def test_a_retrained_model_is_recognised_by_its_training_identity(tmp_path):
    first = make_saved_model(tmp_path / "first", "a")
    retrained = make_saved_model(tmp_path / "retrained", "a, other bytes")
    serving = str(tmp_path / "serving")
    _, path = publish_version(first, serving, training_identity="data-1+recipe-1")
    assert recorded_identity(path) == "data-1+recipe-1"
    # The identity is a record of the publication, not content: the digest still matches.
    assert serving_version_of(first, serving) == (1, path)
    assert serving_version_of(retrained, serving, "data-1+recipe-1") == (1, path)
    assert serving_version_of(retrained, serving, "data-2+recipe-1") is None
    assert serving_version_of(retrained, serving) is None  # no identity: content only


def test_a_copy_of_a_live_writer_is_left_alone(tmp_path):
    serving = tmp_path / "serving"
    live = serving / f".incoming-{os.getpid()}-abc"
    dead = serving / ".incoming-oldstyle"  # before pids were in the name: no writer owns it
    live.mkdir(parents=True)
    dead.mkdir()
    assert remove_abandoned_copies(str(serving)) == [str(dead)]
    assert incomplete_copies(str(serving)) == [str(live)]
