"""Runs that repeat: unchanged, after a code edit, after a SIGKILL. Real CLI runs, real signals.

A SIGKILLed Trainer resumes from its last epoch backup: the trainer-edit scenario
kills after epoch 2 of 5 and checks the rerun trains only epochs 3-5.

Each scenario starts from a copy of e2e_run's output directory (its ML Metadata
points at e2e_run's artifacts, so everything e2e_run computed can come from
cache), and code edits are made in a copy of our packages put first on
PYTHONPATH, never in this checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import tensorflow as tf

from core.metadata import models as registry
from core.metadata import store
from core.serving_layout import incomplete_copies, versions
from tests.conftest import REPO_ROOT, PipelineRun, run_cli, sample_run_args

pytestmark = pytest.mark.e2e

MODEL_NAME = "cats_vs_dogs_sample"
PACKAGES = ("core", "components", "trainer_module", "pipeline")
# Tiny training where the Trainer has to run anyway: these scenarios test reuse, not learning.
TINY_TRAINING = ("--head-epochs", "1", "--fine-tune-epochs", "0")


def copy_of_outputs(e2e_run: PipelineRun, tmp_path_factory, name: str) -> Path:
    output_dir = tmp_path_factory.mktemp(name) / "outputs"
    shutil.copytree(
        e2e_run.output_dir, output_dir, ignore=shutil.ignore_patterns("pipeline_root", "logs")
    )
    return output_dir


def edited_code(tmp_path_factory, edited: str) -> Path:
    """A copy of our packages with a comment appended to `edited`."""
    root = tmp_path_factory.mktemp("code")
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, root / package)
    with open(root / edited, "a") as f:
        f.write("\n# an edit\n")
    return root


def run_and_kill(args: list[str], code_root: Path, marker: str, then: Callable[[], bool]) -> str:
    """Starts `python -m pipeline ARGS`; once `marker` appears in the live view and `then()`
    holds, SIGKILLs its process group. Returns everything it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        cwd=code_root,
        env={**os.environ, "PYTHONPATH": str(code_root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed = []
    for line in process.stdout:
        printed.append(line)
        if marker in line:
            deadline = time.monotonic() + 120
            while not then():
                assert process.poll() is None, "".join(printed) + "(the run ended before the kill)"
                assert time.monotonic() < deadline, f"{marker!r} seen, the condition never held"
                time.sleep(0.2)
            os.killpg(process.pid, signal.SIGKILL)
            break
    rest, _ = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, "".join(printed) + rest
    return "".join(printed) + rest


def backup_of_epoch(output_dir: Path, epoch: int) -> bool:
    """The Trainer's resume backup holds `epoch` (CheckpointManager saves once per epoch)."""
    for path in output_dir.glob("pipeline_root/Trainer/.resume/*/checkpoint"):
        if f'model_checkpoint_path: "ckpt-{epoch}"' in path.read_text():
            return True
    return False


def seconds_later(seconds: float) -> Callable[[Path], bool]:
    """A kill condition that holds `seconds` after it is first asked."""
    first_asked: list[float] = []

    def elapsed(_: Path) -> bool:
        first_asked[:] = first_asked or [time.monotonic()]
        return time.monotonic() - first_asked[0] >= seconds

    return elapsed


def epoch_lines(output: str) -> list[tuple[str, str]]:
    return re.findall(r"(head|fine-tune) epoch (\d+/\d+) .*loss=", output)


def statuses(run: PipelineRun) -> dict[str, str]:
    return {c["component"]: c["status"] for c in run.summary["components"]}


@pytest.fixture(scope="module")
def unchanged_reruns(e2e_run, tmp_path_factory) -> tuple[PipelineRun, PipelineRun]:
    """The same command as e2e_run, twice more, on (a copy of) its output directory."""
    output_dir = copy_of_outputs(e2e_run, tmp_path_factory, "unchanged")
    runs = []
    for _ in range(2):
        process = run_cli(*sample_run_args(e2e_run.data_dir, output_dir), cwd=output_dir)
        assert process.returncode == 0, process.stdout + process.stderr
        runs.append(PipelineRun(process, output_dir, e2e_run.data_dir))
    return runs[0], runs[1]


def test_an_unchanged_rerun_reuses_everything_and_publishes_nothing_new(unchanged_reruns):
    second, third = unchanged_reruns
    # The second run's Evaluator runs again: its baseline is now e2e_run's model (the
    # first run had none). From the third run on, nothing runs at all.
    ran = {name for name, status in statuses(second).items() if status != "cached"}
    assert ran <= {"latest_blessed_model_resolver", "Evaluator", "Pusher"}
    ran = {name for name, status in statuses(third).items() if status != "cached"}
    assert ran <= {"latest_blessed_model_resolver"}
    for rerun in (second, third):
        summary = rerun.summary
        assert {"TfdsExampleGen", "Transform", "Trainer"} <= set(summary["reused"])
        assert summary["already_serving_version"] == 1
        assert summary["pushed_version"] is None and summary["pushed_model_dir"] is None
        out = rerun.process.stdout
        assert "✔ Trainer (cached" in out and "✔ Transform (cached" in out
        assert "already serving as version 1" in out
        assert "reused from earlier runs (cached): TfdsExampleGen" in out
    assert os.listdir(third.output_dir / "serving" / MODEL_NAME) == ["1"]


def kill_then_rerun(
    e2e_run, tmp_path_factory, edited: str, marker: str, then: Callable[[Path], bool], *extra: str
) -> tuple[str, list[int], PipelineRun]:
    """With `edited` changed, a run SIGKILLed at `marker` once `then(output_dir)` holds, then
    the same command to the end.

    Returns what the killed run printed, the versions before the rerun, and the rerun.
    """
    output_dir = copy_of_outputs(e2e_run, tmp_path_factory, "killed")
    code = edited_code(tmp_path_factory, edited)
    args = sample_run_args(e2e_run.data_dir, output_dir, *extra)
    killed = run_and_kill(args, code, marker, lambda: then(output_dir))
    versions_before = versions(str(output_dir / "serving" / MODEL_NAME))
    process = subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return killed, versions_before, PipelineRun(process, output_dir, e2e_run.data_dir)


@pytest.fixture(scope="module")
def trainer_killed_then_rerun(e2e_run, tmp_path_factory):
    """Trainer code edited; SIGKILL once epoch 2 of 5 is backed up, then the same command.

    One pair of runs serves two stories: the edit re-runs only the Trainer, and the
    killed Trainer resumes at epoch 3 instead of starting over (issue: long trainings).
    """
    return kill_then_rerun(
        e2e_run,
        tmp_path_factory,
        "trainer_module/training.py",
        "head epoch 2/",
        lambda output_dir: backup_of_epoch(output_dir, 2),
    )


def test_a_trainer_edit_reruns_the_trainer_and_reuses_transform(trainer_killed_then_rerun):
    _, _, rerun = trainer_killed_then_rerun
    status = statuses(rerun)
    assert status["Trainer"] == "complete"
    assert status["Transform"] == status["TfdsExampleGen"] == status["StatisticsGen"] == "cached"


def test_a_run_killed_in_the_trainer_is_completed_by_the_next_one(trainer_killed_then_rerun):
    killed, versions_before, rerun = trainer_killed_then_rerun
    assert "▶ Trainer" in killed and "✔ Trainer" not in killed
    assert_one_complete_run_and_at_most_one_new_version(rerun, versions_before)


def test_the_killed_trainer_got_as_far_as_epoch_2(trainer_killed_then_rerun):
    killed, _, _ = trainer_killed_then_rerun
    assert [epoch for _, epoch in epoch_lines(killed)][:2] == ["1/5", "2/5"]


def test_the_rerun_resumes_at_epoch_3_and_trains_only_the_rest(trainer_killed_then_rerun):
    _, _, rerun = trainer_killed_then_rerun
    assert "resuming at epoch 3/5 (head stage)" in rerun.process.stdout
    assert epoch_lines(rerun.process.stdout) == [
        ("head", "3/5"),
        ("head", "4/5"),
        ("fine-tune", "5/5"),
    ]


def test_the_history_is_continuous_and_marks_the_resume(trainer_killed_then_rerun):
    _, _, rerun = trainer_killed_then_rerun
    (history_file,) = rerun.output_dir.glob(
        "pipeline_root/Trainer/model/*/Format-Serving/assets.extra/history.json"
    )
    history = json.loads(history_file.read_text())
    assert history["head"]["epoch"] == [1, 2, 3, 4]
    assert history["head"]["resumed_at_epoch"] == [3]
    assert history["fine_tune"]["epoch"] == [5]


def test_the_resume_backup_is_gone_once_the_model_is_exported(trainer_killed_then_rerun):
    _, _, rerun = trainer_killed_then_rerun
    assert list(rerun.output_dir.glob("pipeline_root/Trainer/.resume/*")) == []


@pytest.fixture(scope="module")
def transform_killed_then_rerun(e2e_run, tmp_path_factory):
    """Preprocessing edited; SIGKILL a second into Transform, then the same command again."""
    return kill_then_rerun(
        e2e_run,
        tmp_path_factory,
        "trainer_module/preprocessing.py",
        "▶ Transform",
        seconds_later(1),
        *TINY_TRAINING,
    )


def test_a_run_killed_in_transform_is_completed_by_the_next_one(transform_killed_then_rerun):
    killed, versions_before, rerun = transform_killed_then_rerun
    assert "▶ Transform" in killed and "✔ Transform" not in killed
    status = statuses(rerun)
    assert status["Transform"] == status["Trainer"] == "complete"  # the edit re-runs both
    assert status["TfdsExampleGen"] == status["StatisticsGen"] == "cached"
    assert_one_complete_run_and_at_most_one_new_version(rerun, versions_before)


def assert_one_complete_run_and_at_most_one_new_version(rerun: PipelineRun, before: list[int]):
    """latest_run.json is the new run; the killed run's RUNNING execution confuses nothing."""
    summary = rerun.summary
    assert set(statuses(rerun).values()) <= {"complete", "cached"}
    serving = str(rerun.output_dir / "serving" / MODEL_NAME)
    after = versions(serving)
    if summary["pushed_version"] is not None:
        assert after == [*before, summary["pushed_version"]]
    else:
        assert after == before
    assert incomplete_copies(serving) == []
    db = store.connect(store.Target(sqlite_path=str(rerun.output_dir / "metadata.sqlite")))
    models = registry.list_models(db)
    # e2e_run's model and the new one; the killed run trained nothing that counts.
    assert len(models) == 2 and models[-1].run_id == summary["run_id"]
    latest_blessed = registry.latest_blessed_model(db, "image-transfer-learning")
    assert latest_blessed is not None and latest_blessed.blessed
    listed = run_cli("models", "list", "--output-dir", str(rerun.output_dir), cwd=rerun.output_dir)
    assert listed.returncode == 0 and summary["run_id"] in listed.stdout


# ---- what is pushed ----


def test_the_pushed_model_holds_weights_and_signatures_but_no_optimizer(e2e_run):
    model_dir = e2e_run.summary["pushed_model_dir"]
    checkpoint = os.path.join(model_dir, "variables", "variables")
    names_and_shapes = tf.train.list_variables(checkpoint)
    assert not [name for name, _ in names_and_shapes if name.startswith("optimizer")]
    reader = tf.train.load_checkpoint(checkpoint)
    dtypes = reader.get_variable_to_dtype_map()
    weight_bytes = sum(
        reader.get_tensor(name).nbytes
        for name, shape in names_and_shapes
        if shape and dtypes[name].is_floating
    )
    on_disk = sum(
        os.path.getsize(os.path.join(folder, name))
        for folder, _, files in os.walk(model_dir)
        for name in files
    )
    assert on_disk <= 1.1 * weight_bytes
    signatures = tf.saved_model.load(model_dir).signatures
    assert set(signatures) == {"serving_default", "serving_image_bytes", "transform_features"}
