"""SIGKILL a real `python -m pipeline run --profile sample` after epoch 2 of 4, then rerun it.

The second run must resume the Trainer at epoch 3, train only the remaining
epochs, and bless and push the model once. One extra pair of pipeline runs
(~2x the e2e run): the only way to see a real kill, on real files and MLMD.
"""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e

KILL_AFTER_EPOCH = 2


def pipeline_command(data_dir: str, output_dir: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", "run", "--profile", "sample",
            "--data-dir", data_dir, "--output-dir", output_dir]  # fmt: skip


def backup_of_epoch(output_dir: str, epoch: int) -> bool:
    """The resume backup holds `epoch`: CheckpointManager numbers one save per epoch."""
    pattern = os.path.join(output_dir, "pipeline_root", "Trainer", ".resume", "*", "checkpoint")
    for path in glob.glob(pattern):
        with open(path) as f:
            if f'model_checkpoint_path: "ckpt-{epoch}"' in f.read():
                return True
    return False


@pytest.fixture(scope="module")
def killed_then_rerun(tmp_path_factory, sample_data_dir):
    output_dir = str(tmp_path_factory.mktemp("resume"))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = pipeline_command(sample_data_dir, output_dir)
    started = time.monotonic()
    with open(os.path.join(output_dir, "killed.out"), "w") as out:
        killed = subprocess.Popen(
            command, cwd=output_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 900
        while not backup_of_epoch(output_dir, KILL_AFTER_EPOCH):
            assert killed.poll() is None, "the run ended before epoch 2 was backed up"
            assert time.monotonic() < deadline, "no backup of epoch 2 within 15 minutes"
            time.sleep(0.2)
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
    killed_seconds = time.monotonic() - started
    started = time.monotonic()
    rerun = subprocess.run(
        command, cwd=output_dir, env=env, capture_output=True, text=True, timeout=900
    )
    rerun_seconds = time.monotonic() - started
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    with open(os.path.join(output_dir, "killed.out")) as f:
        killed_output = f.read()
    print(f"killed after {killed_seconds:.1f} s; rerun took {rerun_seconds:.1f} s")
    print(killed_output + "\n---- rerun ----\n" + rerun.stdout)
    return output_dir, killed_output, rerun.stdout


def epoch_lines(output: str) -> list[str]:
    return re.findall(r"(head|fine-tune) epoch (\d+/\d+) .*loss=", output)


def test_the_killed_run_got_as_far_as_epoch_2(killed_then_rerun):
    _, killed_output, _ = killed_then_rerun
    assert [e for _, e in epoch_lines(killed_output)][:2] == ["1/5", "2/5"]


def test_the_rerun_resumes_at_epoch_3_and_trains_only_the_rest(killed_then_rerun):
    _, _, output = killed_then_rerun
    assert "resuming at epoch 3/5 (head stage)" in output
    assert epoch_lines(output) == [("head", "3/5"), ("head", "4/5"), ("fine-tune", "5/5")]


def test_the_history_is_continuous_and_marks_the_resume(killed_then_rerun):
    output_dir, _, _ = killed_then_rerun
    summary = json.loads(open(os.path.join(output_dir, "latest_run.json")).read())
    assert summary["blessed"]
    pushed = summary["pushed_model_dir"]
    with open(os.path.join(pushed, "assets.extra", "history.json")) as f:
        history = json.load(f)
    assert history["head"]["epoch"] == [1, 2, 3, 4]
    assert history["head"]["resumed_at_epoch"] == [3]
    assert history["fine_tune"]["epoch"] == [5]


def test_blessed_and_pushed_once_and_the_backup_is_gone(killed_then_rerun):
    output_dir, _, _ = killed_then_rerun
    versions = os.listdir(os.path.join(output_dir, "serving", "cats_vs_dogs_sample"))
    assert [v for v in versions if v.isdigit()] == ["1"]
    assert glob.glob(os.path.join(output_dir, "pipeline_root", "Trainer", ".resume", "*")) == []
