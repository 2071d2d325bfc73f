"""A newcomer's folder of photos, run as they type it: `python -m pipeline run --image-folder
DIR`, no other flag, in a fresh directory (`image_folder_run`, tests/conftest.py)."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
from PIL import Image

from pipeline.sample_data import draw_image
from tests.conftest import FOLDER_CLASSES, run_cli

pytestmark = pytest.mark.e2e

# What TFDS, absl and TensorFlow print on their own; the terminal shows none of it.
LIBRARY_OUTPUT = (
    "Downloading and preparing",
    "Generating splits",
    "Shuffling",
    "Variant folder",
    "dataset_info.json",
    "oneDNN",
    "cuFFT",
    "cuDNN",
    "cuBLAS",
    "TensorRT",
    "cuda",
    "absl",
    "WARNING",
)
# A line of TensorFlow's own C++ logging ("2026-12-03 12:20:01.401162: I external/..."):
# which lines appear depends on the machine (oneDNN's only on some Intel CPUs, cuda's
# only without a GPU), their format does not.
TENSORFLOW_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] ", re.M)


def test_the_folder_names_the_dataset_classes_model_and_splits(image_folder_run):
    summary, printed = image_folder_run.summary, image_folder_run.process.stdout
    assert summary["class_names"] == FOLDER_CLASSES
    assert summary["data_source"]["name"] == "my_photos"
    # train/ and test/ only: eval is carved from the end of train
    assert summary["split_counts"] == {"train": 108, "eval": 12, "test": 30}
    # One line of ours: the first (interrupted) run wrote the dataset, the rerun found the
    # folder unchanged and kept it (so its ExampleGen came from the cache).
    described = "train 120, test 30 images, 3 classes (autumn, forest, sea)"
    (prepared,) = [
        line for line in image_folder_run.interrupted_output.splitlines() if " from " in line
    ]
    assert prepared.startswith("prepared my_photos from ") and described in prepared
    (unchanged,) = [line for line in printed.splitlines() if " my_photos from " in line]
    assert unchanged.startswith("unchanged since prepared: my_photos from ")
    assert described in unchanged
    # The model is the dataset's, published under its name.
    assert summary["blessed"], summary["not_blessed_because"]
    pushed = Path(summary["pushed_model_dir"])
    assert pushed == image_folder_run.output_dir / "serving" / "my_photos" / "1"
    assert (pushed / "assets.extra" / "class_names.txt").read_text().split() == FOLDER_CLASSES


def test_the_metrics_are_named_after_the_classes(image_folder_run):
    (metrics,) = [
        line for line in image_folder_run.process.stdout.splitlines() if "test metrics:" in line
    ]
    for name in FOLDER_CLASSES:
        assert f"precision/{name}=" in metrics and f"recall/{name}=" in metrics
    assert "class_" not in metrics


def test_library_output_goes_to_the_log_not_the_terminal(image_folder_run):
    terminal = image_folder_run.process.stdout + image_folder_run.process.stderr
    assert [marker for marker in LIBRARY_OUTPUT if marker in terminal] == []
    assert not TENSORFLOW_LOG_LINE.search(terminal)
    # TFDS wrote the dataset during the first, interrupted run: its log holds TFDS's output
    # (and the rerun's log TensorFlow's start-up lines).
    first, rerun = sorted((image_folder_run.output_dir / "logs").glob("run-*.log"))
    assert "Generating splits" in first.read_text()
    assert TENSORFLOW_LOG_LINE.search(rerun.read_text())
    assert rerun == Path(image_folder_run.summary["log_file"])


def test_predict_prints_a_header_names_the_class_and_warns_of_tiny_images(
    image_folder_run, tmp_path
):
    sea = tmp_path / "sea.jpg"
    sea.write_bytes(draw_image(2, random.Random(11), num_classes=3))
    tiny = tmp_path / "tiny.png"
    Image.open(io.BytesIO(draw_image(0, random.Random(12), num_classes=3))).resize((20, 15)).save(
        tiny
    )
    workdir = image_folder_run.output_dir.parent
    # no flag: the one model this output directory serves
    result = run_cli("predict", str(sea), str(tiny), cwd=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "image\tclass\tprobability of that class" in lines
    scored = dict((line.split("\t")[0], line.split("\t")[1:]) for line in lines[2:])
    assert scored[str(sea)][0] in FOLDER_CLASSES
    assert 1 / 3 <= float(scored[str(sea)][1]) <= 1
    assert f"warning: {tiny} is 20x15 pixels, far below the model's 96x96 input" in result.stderr
    assert str(sea) not in result.stderr


def test_ctrl_c_prints_one_line_and_the_same_command_resumes(image_folder_run):
    """Ctrl-C a second into Transform: one line saying what completed and how to go on,
    no traceback; the same command then reuses what completed."""
    printed = image_folder_run.interrupted_output
    assert "Traceback" not in printed and "KeyboardInterrupt" not in printed
    (line,) = [line for line in printed.splitlines() if line.startswith("interrupted")]
    assert "TfdsExampleGen" in line and "completed" in line
    assert "run the same command again to resume" in line
    assert "Transform" not in line.split("completed")[0]
    reused = image_folder_run.summary["reused"]
    assert {"TfdsExampleGen", "StatisticsGen", "SchemaGen"} <= set(reused), reused
    assert "Transform" not in reused
