"""What the Trainer of the session's one e2e run left next to the model."""

from __future__ import annotations

import glob
import json
import os

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def model_run_dir(e2e_run) -> str:
    (run_dir,) = glob.glob(
        str(e2e_run.output_dir / "pipeline_root" / "Trainer" / "model_run" / "*")
    )
    return run_dir


def test_history_has_both_stages_on_one_epoch_axis(model_run_dir):
    with open(os.path.join(model_run_dir, "history.json")) as f:
        history = json.load(f)
    assert history["head"]["epoch"] == [1, 2, 3, 4]  # the sample profile: 4 + 1 epochs
    assert history["fine_tune"]["epoch"] == [5]
    for stage in history.values():
        for name in ("loss", "binary_accuracy", "val_loss", "val_binary_accuracy"):
            assert len(stage[name]) == len(stage["epoch"])
        assert all(seconds > 0 for seconds in stage["train_seconds"])


def test_history_travels_with_the_pushed_model(e2e_run, model_run_dir):
    pushed = os.path.join(e2e_run.summary["pushed_model_dir"], "assets.extra", "history.json")
    with open(pushed) as f, open(os.path.join(model_run_dir, "history.json")) as g:
        assert json.load(f) == json.load(g)


def test_one_tensorboard_log_dir_holds_both_stages(model_run_dir):
    event_files = glob.glob(
        os.path.join(model_run_dir, "**", "events.out.tfevents.*"), recursive=True
    )
    assert {os.path.basename(os.path.dirname(f)) for f in event_files} >= {"train", "validation"}
