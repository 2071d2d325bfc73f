"""One real 3-class run: N-class sample -> curated schema -> softmax model -> TFMA -> predict.

An extra pipeline run (tiny epochs, 240 images) rather than a session fixture: the
shared `e2e_run` must stay the guide's binary problem.
"""

from __future__ import annotations

import glob
import json
import random
from pathlib import Path

import pytest
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.utils import io_utils

from core import features
from pipeline.sample_data import draw_image, generate_sample_dataset
from tests.conftest import run_cli

pytestmark = pytest.mark.e2e

NAME = "tri_sample"
CLASSES = ["class_0", "class_1", "class_2"]


@pytest.fixture(scope="module")
def three_class_run(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("tfds3"))
    generate_sample_dataset(data_dir, num_examples=240, num_classes=3, dataset_name=NAME)
    output_dir = tmp_path_factory.mktemp("run3")
    process = run_cli(
        "run",
        "--profile",
        "sample",
        "--dataset-name",
        NAME,
        "--num-classes",
        "3",
        "--model-name",
        NAME,
        "--head-epochs",
        "3",
        "--fine-tune-epochs",  # the head is what changes with N classes
        "0",
        "--min-accuracy",
        "0.5",  # chance is 1/3
        "--data-dir",
        data_dir,
        "--output-dir",
        str(output_dir),
        cwd=output_dir,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return output_dir, json.loads((output_dir / "latest_run.json").read_text())


def test_three_classes_train_evaluate_and_push(three_class_run):
    _, summary = three_class_run
    print("3-class run:", json.dumps(summary["eval_metrics"]), summary["components"])
    assert summary["blessed"], summary["not_blessed_because"]
    metrics = summary["eval_metrics"]  # the overall slice (per-label: test_evaluation.py)
    assert metrics["accuracy"] >= 0.5
    for class_id in range(3):
        assert {f"precision/class_{class_id}", f"recall/class_{class_id}"} <= set(metrics)
    assert all(a == [] for a in summary["anomalies"].values()), summary["anomalies"]


def test_the_schema_carries_the_class_label(three_class_run):
    output_dir, _ = three_class_run
    (path,) = glob.glob(str(output_dir / "pipeline_root" / "SchemaGen" / "schema" / "*" / "*"))
    schema = io_utils.parse_pbtxt_file(path, schema_pb2.Schema())
    assert list(features.class_names_of(schema)) == CLASSES
    (label,) = [f for f in schema.feature if f.name == features.LABEL_KEY]
    assert (label.int_domain.min, label.int_domain.max) == (0, 2)


def test_class_names_travel_in_the_model_and_predict_prints_them(three_class_run, tmp_path):
    output_dir, summary = three_class_run
    pushed = Path(summary["pushed_model_dir"])
    assert (pushed / "assets.extra" / "class_names.txt").read_text().split() == CLASSES
    image = tmp_path / "blue.jpg"
    image.write_bytes(draw_image(2, random.Random(5), num_classes=3))
    result = run_cli(
        "predict",
        str(image),
        "--model",
        str(pushed),
        "--output-dir",
        str(output_dir),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith(str(image))]
    _, class_name, probability = line.split("\t")
    assert class_name in CLASSES and 1 / 3 <= float(probability) <= 1.0


def test_models_list_shows_the_multi_class_accuracy(three_class_run, tmp_path):
    output_dir, summary = three_class_run
    listed = run_cli("models", "list", "--output-dir", str(output_dir), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()[:2]
    accuracy = row[header.index("ACCURACY") :].split()[0]
    assert float(accuracy) == round(summary["eval_metrics"]["accuracy"], 4)
