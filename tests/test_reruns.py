"""Runs that repeat: unchanged, after a code edit, after a SIGKILL. Real CLI runs, real signals.

Each scenario starts from a copy of e2e_run's output directory (its ML Metadata
points at e2e_run's artifacts, so everything e2e_run computed can come from
cache); tests/interrupted_runs.py kills and reruns. Two scenarios:
- the trainer code edited, SIGKILLed after epoch 2 of 5's backup: only the Trainer
  re-runs, and it resumes at epoch 3 instead of starting over;
- the preprocessing edited, SIGKILLed in Transform: that is conftest's worse_run,
  shared with the registry and baseline tests.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import tensorflow as tf

from core.metadata import models as registry
from core.metadata import store
from core.serving_layout import incomplete_copies, versions
from tests.conftest import MODEL_NAME, PipelineRun, run_cli, sample_run_args
from tests.interrupted_runs import backup_of_epoch, copy_of_outputs, kill_then_rerun

pytestmark = pytest.mark.e2e


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
    assert ran <= {"latest_blessed_model_resolver", "Evaluator", "ServingCheck", "Pusher"}
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
    rerun = trainer_killed_then_rerun
    status = statuses(rerun)
    assert status["Trainer"] == "complete"
    assert status["Transform"] == status["TfdsExampleGen"] == status["StatisticsGen"] == "cached"


def test_a_run_killed_in_the_trainer_is_completed_by_the_next_one(trainer_killed_then_rerun):
    rerun = trainer_killed_then_rerun
    assert "▶ Trainer" in rerun.killed_output and "✔ Trainer" not in rerun.killed_output
    assert_one_complete_run_and_at_most_one_new_version(rerun, rerun.versions_before)


def test_the_killed_trainer_got_as_far_as_epoch_2(trainer_killed_then_rerun):
    killed = trainer_killed_then_rerun.killed_output
    assert [epoch for _, epoch in epoch_lines(killed)][:2] == ["1/4", "2/4"]


def test_the_rerun_resumes_at_epoch_3_and_trains_only_the_rest(trainer_killed_then_rerun):
    rerun = trainer_killed_then_rerun
    assert "resuming at epoch 3/5 (head stage)" in rerun.process.stdout
    # Each stage counts its own epochs (4 head, 1 fine-tune).
    assert epoch_lines(rerun.process.stdout) == [
        ("head", "3/4"),
        ("head", "4/4"),
        ("fine-tune", "1/1"),
    ]


def test_the_history_is_continuous_and_marks_the_resume(trainer_killed_then_rerun):
    rerun = trainer_killed_then_rerun
    (history_file,) = rerun.output_dir.glob(
        "pipeline_root/Trainer/model/*/Format-Serving/assets.extra/history.json"
    )
    history = json.loads(history_file.read_text())
    assert history["head"]["epoch"] == [1, 2, 3, 4] and len(history["head"]["loss"]) == 4
    assert history["head"]["resumed_at_epoch"] == [3]
    assert history["fine_tune"]["epoch"] == [5]
    # TensorBoard's files of the killed execution were carried over into the rerun's.
    (model_run,) = [
        path.parent
        for path in rerun.output_dir.glob("pipeline_root/Trainer/model_run/*/*")
        if path.name == "history.json"
    ]
    assert len(list(model_run.glob("**/events.out.*"))) > 2


def test_the_resume_backup_is_gone_once_the_model_is_exported(trainer_killed_then_rerun):
    rerun = trainer_killed_then_rerun
    assert list(rerun.output_dir.glob("pipeline_root/Trainer/.resume/*")) == []


def test_a_run_killed_in_transform_is_completed_by_the_next_one(worse_run):
    """worse_run (tests/conftest.py): preprocessing edited, SIGKILLed in Transform, rerun."""
    assert "▶ Transform" in worse_run.killed_output
    assert "✔ Transform" not in worse_run.killed_output
    status = statuses(worse_run)
    assert status["Transform"] == status["Trainer"] == "complete"  # the edit re-runs both
    assert status["TfdsExampleGen"] == status["StatisticsGen"] == "cached"
    assert_one_complete_run_and_at_most_one_new_version(worse_run, worse_run.versions_before)


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
