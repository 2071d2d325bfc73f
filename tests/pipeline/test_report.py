"""The report page from known content: every section, figures embedded, nothing fetched."""

from __future__ import annotations

import base64
import io
import json
import re

from PIL import Image

from core.config import PipelineConfig
from pipeline import run_summary
from pipeline.report import content as content_lib
from pipeline.report import page

SUMMARY = {
    "run_id": "2026-11-30T01:00:00.000001",
    "profile": "sample",
    "components": [
        {"component": "TfdsExampleGen", "status": "complete", "seconds": 10.0},
        {"component": "Trainer", "status": "complete", "seconds": 60.0},
        {"component": "Evaluator", "status": "cached", "seconds": 0.5},
    ],
    "split_counts": {"train": 118, "eval": 29, "test": 28},
    "data_source": {
        "name": "cats_vs_dogs_sample",
        "version": "4.0.1",
        "data_dir": "/data/<tfds>",
        "splits": {"train": "train[:40%]"},
    },
    "skipped_images": {"train": {"empty": 1}, "test": {}},
    "converted_images": {"train": {"grayscale": 2}},
    "anomalies": {"train": [], "test": ["label: new value"]},
    "blessed": False,
    "not_blessed_because": [
        "binary_accuracy = 0.5000 is below the value threshold 0.7000",
    ],
}


def _jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, format="JPEG")
    return out.getvalue()


def _content() -> content_lib.ReportContent:
    config = PipelineConfig.for_profile("sample", head_epochs=2, min_accuracy=0.7)
    return content_lib.ReportContent(
        run_id=SUMMARY["run_id"],
        profile="sample",
        summary=SUMMARY,
        config_changes=content_lib.config_changes(config.replace(head_epochs=2)),
        thresholds=[
            "binary_accuracy >= 0.7",
            "binary_accuracy change >= -0.1 against the latest blessed model",
        ],
        history={
            "head": {
                "epoch": [1, 2],
                "loss": [0.7, 0.6],
                "val_loss": [0.7, 0.65],
                "binary_accuracy": [0.5, 0.6],
                "val_binary_accuracy": [0.5, 0.55],
            },
            "fine_tune": {
                "epoch": [3],
                "loss": [0.5],
                "val_loss": [0.6],
                "binary_accuracy": [0.7],
                "val_binary_accuracy": [0.6],
            },
        },
        metrics_by_slice={
            "overall": {
                "binary_accuracy": 0.5,
                "auc": 0.6,
                "example_count": 28.0,
                "true_positives": 7.0,
                "false_positives": 7.0,
                "true_negatives": 7.0,
                "false_negatives": 7.0,
            },
            "label=0": {"binary_accuracy": 0.5, "example_count": 14.0},
            "label=1": {"binary_accuracy": 0.5, "example_count": 14.0},
        },
        baseline="model 3",
        baseline_metrics={"binary_accuracy": 0.9, "auc": 0.95},
        curve=[
            {
                "threshold": t / 10,
                "precision": 0.5 + t / 40,
                "recall": 1 - t / 10,
                "false_positive_rate": 1 - t / 8 if t < 8 else 0.0,
            }
            for t in range(11)
        ],
        calibration=[
            {"lower": 0.0, "upper": 0.5, "examples": 10.0, "positives": 3.0, "prediction_sum": 2.0},
            {
                "lower": 0.5,
                "upper": 1.0,
                "examples": 18.0,
                "positives": 11.0,
                "prediction_sum": 13.0,
            },
        ],
        class_names=["cat", "dog"],
        scored=[
            content_lib.TestImage("cat.7.jpg", 0, 1, 0.97, _jpeg("red"), positive_probability=0.97),
            content_lib.TestImage(
                "dog.9.jpg", 1, 0, 0.60, _jpeg("blue"), positive_probability=0.40
            ),
            content_lib.TestImage(
                "dog.2.jpg", 1, 1, 0.80, _jpeg("green"), positive_probability=0.8
            ),
        ],
    )


def test_the_page_has_every_section_of_the_report():
    html = page.render(_content())
    for heading in (
        "The run",
        "Training",
        "Evaluation on the test split",
        "Per class",
        "Misclassified test images: the 2 most confident mistakes",
        "Blessing",
        "Components",
    ):
        assert f">{heading}</h" in html
    assert "not blessed, nothing pushed" in html
    assert "binary_accuracy = 0.5000 is below the value threshold 0.7000" in html
    assert "--head-epochs 2 (profile: 4)" in html
    assert "serving before this run (model 3)" in html
    # Only the misclassified, each with what it is and what the model said, by file name.
    assert "true <b>cat</b>, said <b>dog</b> (P(dog) = 0.970)" in html
    assert "dog.2.jpg" not in html and "cat.7.jpg" in html
    assert "mean P(dog)" in html
    assert "/data/&lt;tfds&gt;" in html  # values are escaped


def test_every_figure_and_image_is_embedded_and_nothing_is_fetched():
    html = page.render(_content())
    sources = re.findall(r"<img [^>]*src='([^']*)'", html)
    # training, ROC/PR, confusion, calibration, timeline, and the 2 test images
    assert len(sources) == 7
    for source in sources:
        kind, data = re.match(r"data:image/(png|jpeg);base64,(.*)", source).groups()
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            assert image.format.lower() == kind and image.width > 0 and image.height > 0
    assert "http" not in html and "<script" not in html and "<link" not in html


def test_the_threshold_that_failed_is_marked_and_the_one_that_held_too():
    html = page.render(_content())
    rows = re.findall(r"<tr><td>(binary_accuracy[^<]*)</td><td><span class='(\w+)'", html)
    assert rows == [
        ("binary_accuracy &gt;= 0.7", "fail"),
        ("binary_accuracy change &gt;= -0.1 against the latest blessed model", "pass"),
    ]


def test_config_changes_name_each_flag_with_the_profiles_value_and_the_runs():
    config = PipelineConfig.for_profile("sample", head_epochs=2, weights="imagenet")
    assert content_lib.config_changes(config) == {
        "--weights": ["none", "imagenet"],
        "--head-epochs": [4, 2],
    }


def test_a_run_that_stopped_before_training_still_gets_a_page():
    content = content_lib.ReportContent(run_id="r", profile="sample", summary={"run_id": "r"})
    html = page.render(content)
    assert "the Trainer did not run" in html and "the Evaluator did not run" in html


def test_three_classes_speak_their_names_everywhere():
    """No cat or dog for a dataset of colours: names from the data, a 3 x 3 matrix."""
    content = _content()
    content.class_names = ["blue", "green", "red"]
    content.curve, content.calibration = [], []  # TFMA's binary plots: not for 3 classes
    content.scored = [
        content_lib.TestImage("red/1.png", 2, 0, 0.81, _jpeg("red")),
        content_lib.TestImage("green/1.png", 1, 1, 0.9, _jpeg("green")),
    ]
    html = page.render(content)
    assert "true <b>red</b>, said <b>blue</b> (0.810)" in html
    assert "red (label 2)" in html and "P(dog)" not in html and ">cat<" not in html
    assert content.confusion() == [[0, 0, 0], [0, 1, 0], [1, 0, 0]]


def test_a_failed_serving_check_says_which_signature_and_that_nothing_was_pushed():
    from components.serving_check.verdict import ServingCheckResult

    failed = ServingCheckResult(
        failures=["serving_image_bytes: accepted a PNG declaring 20000x20000 pixels"],
        signatures={"serving_default": "ok", "serving_image_bytes": "accepted a PNG ..."},
        loaded_seconds=2.0,
        hostile_extra_rss_mb=1210,
    )
    summary = {"run_id": "r", "blessed": True, "serving_check": json.loads(failed.to_json())}
    html = page.render(content_lib.ReportContent(run_id="r", profile="sample", summary=summary))
    assert ">Serving check</h2>" in html
    assert "blessed, failed the serving check: not pushed" in html
    assert "<p class='fail'>serving_image_bytes: accepted a PNG declaring 20000x20000" in html
    assert "peak memory +1210 MB" in html
    text = run_summary.RunSummary(
        run_id="r", profile="sample", blessed=True, serving_check=summary["serving_check"]
    ).format()
    assert "  serving check: failed\n    failed: serving_image_bytes: accepted a PNG" in text
    assert "  pushed: nothing (the model failed the serving check)" in text
