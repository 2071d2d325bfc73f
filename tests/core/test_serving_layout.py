"""The TF Serving layout: integer versions, and a version appears whole or not at all."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from core.serving_layout import (
    DIGEST_FILE,
    content_digest,
    incomplete_copies,
    publish_version,
    recorded_identity,
    remove_abandoned_copies,
    serving_version_of,
    versions,
)
from pipeline.predict import latest_model_dir
from tests.conftest import REPO_ROOT


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


def test_an_object_store_url_is_refused_rather_than_written_non_atomically(tmp_path):
    model = make_saved_model(tmp_path / "model", "c")
    with pytest.raises(ValueError, match="atomic"):
        publish_version(model, "gs://bucket/serving/cats")


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
    assert latest_model_dir(serving) == os.path.join(serving, "1")
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
