"""One real LocalDagRunner run of the whole pipeline (real Beam, real MLMD in sqlite).

The `e2e_run` fixture runs `python -m pipeline run --profile sample` once; each
test here checks one promise of that run.
"""

import os
import sqlite3
from pathlib import Path

import pytest
import tensorflow as tf

from components.serving_check.requests import raw_example
from pipeline.predict import newest_complete_versions
from pipeline.sample_data import draw_image
from tests.components.test_tfds_example_gen import CONVERTED, SKIPPED, expected_outcomes
from tests.conftest import SAMPLE_EXAMPLES, run_cli

pytestmark = pytest.mark.e2e

COMPONENTS = [
    "TfdsExampleGen",
    "latest_blessed_model_resolver",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Transform",
    "Trainer",
    "Evaluator",
    "ServingCheck",
    "Pusher",
]


def test_every_component_completed(e2e_run):
    components = e2e_run.summary["components"]
    assert sorted(c["component"] for c in components) == sorted(COMPONENTS)
    assert {c["status"] for c in components} == {"complete"}
    trainer = next(c for c in components if c["component"] == "Trainer")
    assert trainer["seconds"] > 0


def test_summary_records_split_counts_metrics_and_push(e2e_run):
    summary = e2e_run.summary
    assert summary["profile"] == "sample"
    assert summary["run_id"]
    n = SAMPLE_EXAMPLES
    sliced = {"train": n * 40 // 100, "eval": n // 10, "test": n // 10}
    skipped = {split: expected_outcomes(split, SKIPPED) for split in sliced}
    assert summary["split_counts"] == {s: sliced[s] - sum(skipped[s].values()) for s in sliced}
    metrics = summary["eval_metrics"]
    assert metrics["example_count"] == summary["split_counts"]["test"]
    assert 0.7 <= metrics["binary_accuracy"] <= 1.0  # the sample profile's value threshold
    assert 0.0 <= metrics["auc"] <= 1.0
    for name in ("auc_pr", "precision", "recall", "calibration", "mean_label"):
        assert name in metrics
    confusion = [metrics[k] for k in ("true_positives", "false_positives", "true_negatives")]
    assert sum(confusion) + metrics["false_negatives"] == summary["split_counts"]["test"]
    assert summary["blessed"] is True
    assert summary["not_blessed_because"] == []
    assert summary["pushed_version"] == 1
    assert summary["pushed_model_dir"].startswith(str(e2e_run.output_dir / "serving"))


def test_summary_shows_where_the_data_came_from_and_what_was_skipped(e2e_run):
    summary = e2e_run.summary
    assert summary["data_source"] == {
        "name": "cats_vs_dogs_sample",
        "version": "4.0.1",
        "data_dir": e2e_run.data_dir,
        "splits": {"train": "train[:40%]", "eval": "train[40%:50%]", "test": "train[50%:60%]"},
    }
    splits = ("train", "eval", "test")
    assert summary["skipped_images"] == {s: expected_outcomes(s, SKIPPED) for s in splits}
    assert summary["converted_images"] == {s: expected_outcomes(s, CONVERTED) for s in splits}
    assert summary["anomalies"] == {"train": [], "eval": [], "test": []}
    printed = e2e_run.process.stdout
    counts = summary["split_counts"]
    assert (
        f"examples: train={counts['train']}, eval={counts['eval']}, test={counts['test']}"
        in printed
    )
    assert "images skipped: train: empty=1," in printed
    assert "anomalies: none" in printed


def test_the_blessed_model_was_pushed_as_version_1(e2e_run):
    serving = e2e_run.output_dir / "serving" / "cats_vs_dogs_sample"
    assert os.listdir(serving) == ["1"]
    assert (serving / "1" / "saved_model.pb").exists()
    assert newest_complete_versions(str(serving))[0][0] == e2e_run.summary["pushed_model_dir"]
    assert "pushed: version 1 to " in e2e_run.process.stdout


def test_a_worse_model_is_not_blessed_pushes_nothing_and_the_summary_says_why(worse_run):
    summary = worse_run.summary
    assert summary["blessed"] is False
    assert summary["pushed_model_dir"] is None and summary["pushed_version"] is None
    reasons = summary["not_blessed_because"]
    accuracy = summary["eval_metrics"]["binary_accuracy"]
    # Both thresholds failed, with the values compared: the value threshold of the
    # profile, and the change against e2e_run's blessed model (the baseline).
    assert f"binary_accuracy = {accuracy:.4f} is below the value threshold 0.7000" in reasons
    assert any("changed by -" in r and "against the latest blessed model" in r for r in reasons)
    serving = worse_run.output_dir / "serving" / "cats_vs_dogs_sample"
    assert os.listdir(serving) == ["1"]  # still only e2e_run's version
    out = worse_run.process.stdout
    assert "blessed: no" in out and "failed: binary_accuracy = " in out
    assert "pushed: nothing (the model was not blessed)" in out
    statuses = {c["component"]: c["status"] for c in summary["components"]}
    assert statuses["TfdsExampleGen"] == "cached" and statuses["Trainer"] == "complete"


def test_pushed_model_predicts_from_a_raw_jpeg_tf_example(e2e_run):
    import random

    serve = tf.saved_model.load(e2e_run.summary["pushed_model_dir"]).signatures["serving_default"]
    rng = random.Random(123)
    examples = [raw_example(draw_image(label, rng)) for label in (0, 1, 0, 1)]
    outputs = serve(examples=tf.constant(examples))
    probability = outputs["probability"].numpy()
    assert probability.shape == (4,)
    assert ((probability >= 0) & (probability <= 1)).all()
    assert set(outputs["class_name"].numpy().tolist()) <= {b"cat", b"dog"}


def test_terminal_shows_progress_not_library_noise(e2e_run):
    out = e2e_run.process.stdout
    for component in COMPONENTS:
        assert f"▶ {component}" in out and f"✔ {component} (" in out
    assert "head epoch 1/" in out and "fine-tune epoch" in out
    assert "INFO:absl" not in out and "tensorflow/core" not in out + e2e_run.process.stderr
    assert out.strip().splitlines()[-1] == str(e2e_run.output_dir / "latest_run.json")


def test_full_log_file_keeps_everything(e2e_run):
    log = open(e2e_run.summary["log_file"]).read()
    assert "Component Trainer is finished." in log
    assert "head epoch 1/" in log


def test_mlmd_lives_in_sqlite_under_the_output_dir(e2e_run):
    with sqlite3.connect(e2e_run.output_dir / "metadata.sqlite") as db:
        (executions,) = db.execute("SELECT COUNT(*) FROM Execution").fetchone()
    assert executions >= len(COMPONENTS)


def test_predict_cli_scores_jpeg_files_and_names_unreadable_ones(e2e_run, tmp_path):
    import random

    good = tmp_path / "dog.jpg"
    good.write_bytes(draw_image(1, random.Random(3)))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    result = run_cli(
        "predict", str(good), str(bad), "--output-dir", str(e2e_run.output_dir), cwd=tmp_path
    )
    lines = dict(line.split("\t", 1) for line in result.stdout.splitlines() if "\t" in line)
    probability = float(lines[str(good)].split("\t")[1])
    assert 0.0 <= probability <= 1.0
    assert lines[str(bad)] == "error: refused by the model: not a JPEG, PNG, GIF or BMP image"
    assert result.returncode == 1  # one file failed, the other was still scored
    assert result.stderr == ""  # no library warnings


def test_full_profile_without_data_or_weights_stops_before_running(tmp_path):
    result = run_cli(
        "run",
        "--profile",
        "full",
        "--data-dir",
        str(tmp_path / "tfds"),
        "--output-dir",
        str(tmp_path / "out"),
        cwd=tmp_path,
        timeout=300,
        env={"KERAS_HOME": str(tmp_path / "keras")},  # an empty Keras cache
    )
    assert result.returncode == 2
    assert "cats_vs_dogs" in result.stderr
    assert f"tfds build cats_vs_dogs --data_dir {tmp_path / 'tfds'}" in result.stderr
    assert "xception_weights_tf_dim_ordering_tf_kernels_notop.h5" in result.stderr
    assert not (tmp_path / "out" / "metadata.sqlite").exists()  # no component ran


def test_every_run_has_a_report_blessed_or_not(e2e_run, worse_run):
    for run, verdict in ((e2e_run, "blessed, pushed as version 1"), (worse_run, "not blessed")):
        path = run.summary["report"]
        assert path.startswith(str(run.output_dir / "reports"))
        assert f"  report: {path}" in run.process.stdout
        html = open(path, encoding="utf-8").read()
        assert verdict in html
        for heading in ("Training", "Evaluation on the test split", "Blessing", "Components"):
            assert f">{heading}</h2>" in html
        assert ">Misclassified test images" in html
    worse = open(worse_run.summary["report"], encoding="utf-8").read()
    # The worse model beside the one serving (e2e_run's), and each threshold it failed.
    assert "serving before this run (model " in worse
    assert "<span class='fail'>failed</span>" in worse
    assert "--head-learning-rate 1e-09 (profile: 0.001)" in worse


def test_the_report_command_rebuilds_a_runs_report(e2e_run):
    path = e2e_run.summary["report"]
    before = os.path.getmtime(path)
    result = run_cli(
        "report",
        e2e_run.summary["run_id"],
        "--output-dir",
        str(e2e_run.output_dir),
        cwd=e2e_run.output_dir,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == path and result.stderr == ""
    assert os.path.getmtime(path) >= before
    missing = run_cli(
        "report", "no-such-run", "--output-dir", str(e2e_run.output_dir), cwd=e2e_run.output_dir
    )
    assert missing.returncode == 2 and "no run 'no-such-run' recorded" in missing.stderr


def test_the_model_passed_the_serving_check_and_carries_its_warmup_requests(e2e_run):
    """Loaded by tf.saved_model.load in a fresh TensorFlow-only process, each signature
    answered as the Evaluator scored the same test images; the hostile batch was refused
    image by image within the memory bound; the warm-up requests ship with the version."""
    from tensorflow_serving.apis import prediction_log_pb2

    from components.serving_check.verdict import HOSTILE_MEMORY_MB
    from core.serving_layout import WARMUP_FILE, content_digest

    check = e2e_run.summary["serving_check"]
    assert check["passed"], check["failures"]
    assert check["signatures"] == {
        "serving_default": "ok",
        "serving_image_bytes": "ok",
        "transform_features": "ok",
    }
    assert check["hostile_extra_rss_mb"] <= HOSTILE_MEMORY_MB
    assert "  serving check: passed" in e2e_run.process.stdout
    pushed = Path(e2e_run.summary["pushed_model_dir"])
    records = tf.data.TFRecordDataset(str(pushed / WARMUP_FILE))
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in records]
    assert len(logs) == check["warmup_requests"] == 6
    assert {log.predict_log.request.model_spec.signature_name for log in logs} == set(
        check["signatures"]
    )
    trained = e2e_run.output_dir.glob("pipeline_root/Trainer/model/*/Format-Serving")
    assert content_digest(str(pushed)) == content_digest(str(next(trained)))
