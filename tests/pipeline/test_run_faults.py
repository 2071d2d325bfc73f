"""Faults around a run end with one message that names the problem and the fix."""

from __future__ import annotations

import json
import subprocess

import pytest

from core.config import PipelineConfig
from tests.conftest import run_cli, sample_run_args


def test_an_output_dir_that_cannot_be_created_is_one_clear_error(tmp_path, sample_data_dir):
    from pipeline.local_runner import run_locally

    in_the_way = tmp_path / "a_file"
    in_the_way.write_text("not a directory")
    config = PipelineConfig.for_profile(
        "sample", data_dir=sample_data_dir, output_dir=str(in_the_way / "outputs")
    )
    with pytest.raises(RuntimeError) as raised:
        run_locally(config)
    message = str(raised.value)
    assert message.startswith(f"cannot write to the output directory {in_the_way / 'outputs'}: ")
    assert message.endswith("choose an --output-dir where a directory can be created")


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (
            ["--output-dir", "/proc/x"],
            "cannot write to the output directory /proc/x: No such file or directory "
            "(/proc/x); choose an --output-dir where a directory can be created",
        ),
        (
            ["--dataset-version", "9.9.9"],
            "version 9.9.9 of TFDS dataset 'cats_vs_dogs_sample' is not prepared in --data-dir "
            "{data_dir}; prepared there: 4.0.1. Pass --dataset-version 4.0.1, or leave it out",
        ),
    ],
    ids=["unwritable-output-dir", "unprepared-version"],
)
def test_a_run_typed_with_a_wrong_flag_says_what_is_wrong_there(
    flags, says, sample_data_dir, tmp_path
):
    """As a user types it; the fix offered is the one for that cause (not "free space")."""
    process = run_cli(
        "run", "--data-dir", sample_data_dir, "--output-dir", str(tmp_path / "out"), *flags,
        cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert process.returncode in (1, 2)
    assert says.format(data_dir=sample_data_dir) in process.stderr
    assert "free space" not in process.stderr and "Traceback" not in process.stderr
    assert "generate-sample" not in process.stderr


def test_predict_model_on_a_directory_that_is_not_a_saved_model(tmp_path, capsys):
    from pipeline.cli import main

    (tmp_path / "model").mkdir()
    image = tmp_path / "dog.jpg"
    image.write_bytes(b"\xff\xd8")
    code = main(["predict", str(image), "--model", str(tmp_path / "model")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'model'} is not a SavedModel (no saved_model.pb)")
    assert "Traceback" not in err


@pytest.fixture
def small_disk(tmp_path):
    """A real 400 KiB filesystem (tmpfs): every write beyond it fails with ENOSPC.

    Mounting needs root (CI and these machines run tests as root); elsewhere the
    test is skipped, saying why.
    """
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=True)  # never EBUSY


@pytest.mark.e2e
def test_a_disk_that_fills_up_during_a_run_fails_it_with_one_message(small_disk, sample_data_dir):
    """The real CLI on a real full disk (ML Metadata and the first examples fill it): the
    run ends, no hang, with one message naming the directory and the fix, and
    latest_run.json is never half-written: the previous run's, or this failed run's."""
    output_dir = small_disk / "outputs"
    output_dir.mkdir()
    previous = json.dumps({"run_id": "the previous run", "components": []})
    (output_dir / "latest_run.json").write_text(previous)
    process = run_cli(*sample_run_args(sample_data_dir, output_dir), cwd=small_disk, timeout=300)
    assert process.returncode == 1, process.stdout + process.stderr
    error = process.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: the output directory {output_dir} ran out of space"), error
    assert error.count("Free space there") == 1
    assert "Traceback" not in process.stdout + process.stderr
    summary = (output_dir / "latest_run.json").read_text()
    if summary != previous:  # written whole: the failed run, up to the failed component
        statuses = [c["status"] for c in json.loads(summary)["components"]]
        assert statuses[-1] == "failed" and set(statuses[:-1]) <= {"complete"}, statuses
    assert not list(output_dir.glob("latest_run.json.partial-*"))
    assert not (output_dir / "serving").exists()
