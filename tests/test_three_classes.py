"""The 3-class sample (generate-sample --num-classes 3) in the output directory of the 2-class
run, under the same model name: a softmax model, its classes' names everywhere, and the
2-class model never taken as its baseline (`three_class_run`, tests/conftest.py)."""

from __future__ import annotations

import glob
import random
from pathlib import Path

import pytest
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.utils import io_utils

from core import features
from pipeline.sample_data import draw_image
from tests.conftest import THREE_CLASSES, run_cli

pytestmark = pytest.mark.e2e


def test_three_classes_train_evaluate_and_push(three_class_run):
    summary = three_class_run.summary
    assert summary["blessed"], summary["not_blessed_because"]
    metrics = summary["eval_metrics"]  # the overall slice (per-label: test_evaluation.py)
    assert metrics["accuracy"] >= 0.5
    for class_id in range(3):
        assert {f"precision/class_{class_id}", f"recall/class_{class_id}"} <= set(metrics)
    assert all(a == [] for a in summary["anomalies"].values()), summary["anomalies"]
    assert summary["class_names"] == THREE_CLASSES


def test_the_two_class_model_is_no_baseline_and_the_run_says_so(three_class_run):
    """The 2-class model is blessed and serving under the same name: TFMA would fail
    comparing one logit with three; the run judges on the value threshold alone."""
    summary, printed = three_class_run.summary, three_class_run.process.stdout
    assert summary["baseline_skipped"].endswith(
        "is another task's: it has the classes cat, dog; this model red, green, blue"
    )
    assert "baseline: none for this model yet" in printed
    assert not any("change" in reason for reason in summary["not_blessed_because"])
    # It is published as the model's next version (the copied serving dir holds version 1).
    assert summary["pushed_version"] == 2


def test_the_summary_names_metrics_after_the_classes(three_class_run):
    printed = three_class_run.process.stdout
    (metrics,) = [line for line in printed.splitlines() if "test metrics:" in line]
    assert "precision/red=" in metrics and "recall/blue=" in metrics
    assert "class_0" not in metrics
    assert "  classes: red, green, blue" in printed


def test_the_schema_carries_the_class_label(three_class_run):
    root = three_class_run.output_dir / "pipeline_root"
    (path,) = glob.glob(str(root / "SchemaGen" / "schema" / "*" / "*"))
    schema = io_utils.parse_pbtxt_file(path, schema_pb2.Schema())
    assert list(features.class_names_of(schema)) == THREE_CLASSES
    (label,) = [f for f in schema.feature if f.name == features.LABEL_KEY]
    assert (label.int_domain.min, label.int_domain.max) == (0, 2)


def test_class_names_travel_in_the_model_and_predict_prints_them(three_class_run, tmp_path):
    summary = three_class_run.summary
    pushed = Path(summary["pushed_model_dir"])
    assert (pushed / "assets.extra" / "class_names.txt").read_text().split() == THREE_CLASSES
    image = tmp_path / "blue.jpg"
    image.write_bytes(draw_image(2, random.Random(5), num_classes=3))
    result = run_cli(
        "predict", str(image), "--model", str(pushed),
        "--output-dir", str(three_class_run.output_dir), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "image\tclass\tprobability of that class" in result.stdout.splitlines()
    (line,) = [line for line in result.stdout.splitlines() if line.startswith(str(image))]
    _, class_name, probability = line.split("\t")
    assert class_name in THREE_CLASSES and 1 / 3 <= float(probability) <= 1.0


def test_models_list_shows_each_models_dataset_and_classes(three_class_run, tmp_path):
    summary = three_class_run.summary
    listed = run_cli(
        "models", "list", "--output-dir", str(three_class_run.output_dir), cwd=tmp_path
    )
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert {"DATASET", "CLASSES"} <= set(header.split())
    (three,) = [row for row in rows if "sample_3_classes" in row]
    (two,) = [row for row in rows if "cat, dog" in row]
    assert "red, green, blue" in three and "cats_vs_dogs_sample" in two
    accuracy = three[header.index("ACCURACY") :].split()[0]
    assert float(accuracy) == round(summary["eval_metrics"]["accuracy"], 4)
    # Where it was pushed, it is the version serving now.
    assert f"2 (pushed, serving) in {three_class_run.output_dir / 'serving'}" in three
