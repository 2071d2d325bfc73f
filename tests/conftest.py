"""Shared fixtures: generated TFDS data, and one real end-to-end pipeline run per session.

The end-to-end run costs minutes (TensorFlow import, Xception tracing), so it
runs once through the real CLI and many tests assert on what it left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import core  # noqa: F401 - first: pins Keras 2 before any test imports TensorFlow

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_NAME = "cats_vs_dogs_sample"  # the sample profile's
SAMPLE_EXAMPLES = 300  # train 120 / eval 30 / test 30 with the guide's slices
# A model deliberately made worse: the head stays at its random initialisation
# (learning rate 1e-9 for one epoch, no fine-tuning), so it guesses.
WORSE_MODEL_FLAGS = (
    "--head-learning-rate",
    "1e-9",
    "--head-epochs",
    "1",
    "--fine-tune-epochs",
    "0",
)


# pyproject's per-test timeout (600 s) fails a hung test fast. A test that may have to set up
# shared pipeline runs first (e2e_run then worse_run, or the Kubeflow replay's four runs:
# each a few minutes, each subprocess with its own shorter timeout) gets this much instead.
SHARED_RUNS_TIMEOUT = 1500


# The session's shared pipeline runs: a test that uses one is an e2e test, marked or not,
# so that `make test-fast` (-m "not e2e and not kfp_replay") never starts a pipeline.
SHARED_RUNS = {"e2e_run", "worse_run", "three_class_run", "image_folder_run"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SHARED_RUNS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)
        if any(item.get_closest_marker(m) for m in ("e2e", "kfp_replay", "portable")):
            item.add_marker(pytest.mark.timeout(SHARED_RUNS_TIMEOUT))


def run_cli(
    *args: str, cwd: Path, timeout: float = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Runs `python -m pipeline ARGS` in a fresh interpreter, as a user would."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def sample_run_args(data_dir: str, output_dir, *extra: str) -> list[str]:
    """`run --profile sample` on `data_dir` into `output_dir`, plus `extra` flags."""
    return [
        "run",
        "--profile",
        "sample",
        "--data-dir",
        data_dir,
        "--output-dir",
        str(output_dir),
        *extra,
    ]


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory) -> str:
    """A generated cats_vs_dogs_sample dataset, written through TFDS."""
    from pipeline.sample_data import generate_sample_dataset

    data_dir = str(tmp_path_factory.mktemp("tfds"))
    generate_sample_dataset(data_dir, num_examples=SAMPLE_EXAMPLES, seed=0)
    return data_dir


@dataclass
class PipelineRun:
    """What one CLI run of the pipeline printed and wrote."""

    process: subprocess.CompletedProcess
    output_dir: Path
    data_dir: str

    @property
    def summary(self) -> dict:
        return json.loads((self.output_dir / "latest_run.json").read_text())


@pytest.fixture(scope="session")
def e2e_run(tmp_path_factory, sample_data_dir) -> PipelineRun:
    """`python -m pipeline run --profile sample` on the generated data, once per session."""
    output_dir = tmp_path_factory.mktemp("run")
    process = run_cli(*sample_run_args(sample_data_dir, output_dir), cwd=output_dir)
    assert process.returncode == 0, process.stdout + process.stderr
    return PipelineRun(process, output_dir, sample_data_dir)


@pytest.fixture(scope="session")
def worse_run(tmp_path_factory, e2e_run):
    """A second real run in e2e_run's history, with a deliberately worse model, that had to
    recover from a SIGKILL first.

    On a copy of e2e_run's outputs (its MLMD points at e2e_run's artifacts, so e2e_run's
    blessed model is the baseline and unchanged components come from cache, while
    e2e_run's own files stay as that run left them), with the preprocessing code edited:
    the run is SIGKILLed a second into Transform, then the same command runs to the end.
    One pair of runs serves the change threshold and "not blessed, nothing pushed", the
    registry's two models, and an interrupted run completed by the next one.
    """
    from tests.interrupted_runs import kill_then_rerun, seconds_later

    return kill_then_rerun(
        e2e_run,
        tmp_path_factory,
        "trainer_module/preprocessing.py",
        "▶ Transform",
        seconds_later(1),
        *WORSE_MODEL_FLAGS,
    )


THREE_CLASSES = ["red", "green", "blue"]  # generate-sample --num-classes 3


@pytest.fixture(scope="session")
def three_class_run(tmp_path_factory, e2e_run) -> PipelineRun:
    """The 3-class sample trained under e2e_run's model name, in a copy of its outputs.

    As a user would: `generate-sample --num-classes 3`, then `run` on it in the output
    directory where the 2-class model is blessed and serving. That model is of another
    task (two classes), so it is no baseline: the run applies the value threshold only.
    """
    from tests.interrupted_runs import copy_of_outputs

    data_dir = tmp_path_factory.mktemp("tfds3")
    generated = run_cli(
        "generate-sample", "--num-classes", "3", "--sample-examples", "240",
        "--data-dir", str(data_dir), cwd=data_dir,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    output_dir = copy_of_outputs(e2e_run, tmp_path_factory, "run3")
    process = run_cli(
        *sample_run_args(
            str(data_dir), output_dir,
            "--dataset-name", "sample_3_classes", "--model-name", MODEL_NAME,
            # the head is what changes with N classes; chance is 1/3
            "--head-epochs", "3", "--fine-tune-epochs", "0", "--min-accuracy", "0.5",
        ),
        cwd=output_dir,
    )  # fmt: skip
    assert process.returncode == 0, process.stdout + process.stderr
    return PipelineRun(process, output_dir, str(data_dir))


FOLDER_CLASSES = ["autumn", "forest", "sea"]  # the folder names (sorted): the class names


@dataclass
class InterruptedFolderRun(PipelineRun):
    """The run, and what the same command printed when Ctrl-C stopped it before."""

    interrupted_output: str = ""


@pytest.fixture(scope="session")
def image_folder_run(tmp_path_factory) -> PipelineRun:
    """`python -m pipeline run --image-folder DIR` and nothing else, in a fresh directory;
    interrupted with Ctrl-C (SIGINT to its process group) first, then run again.

    DIR is the layout of the newcomer's try-out: `train/<class>/` and `test/<class>/`, JPEG
    and PNG files. The data and output directories are the defaults under the working
    directory.
    """
    from tests.interrupted_runs import run_and_kill, seconds_later
    from tests.photo_folder import write_photo_folder

    folder = write_photo_folder(
        tmp_path_factory.mktemp("photos") / "my_photos",
        FOLDER_CLASSES,
        {"train": 40, "test": 10},
        seed=3,
    )
    workdir = tmp_path_factory.mktemp("newcomer")
    args = ["run", "--image-folder", str(folder)]
    # Ctrl-C a second into Transform, then the same command again, as the message says.
    a_second = seconds_later(1)
    interrupted = run_and_kill(
        args, REPO_ROOT, "▶ Transform", lambda: a_second(workdir), signal.SIGINT, cwd=workdir
    )
    # A newcomer's shell sets no TF_CPP_MIN_LOG_LEVEL: TensorFlow prints its start-up lines.
    process = run_cli(*args, cwd=workdir, env={"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert process.returncode == 0, process.stdout + process.stderr
    return InterruptedFolderRun(
        process, workdir / "outputs", str(workdir / "data" / "tfds"), interrupted
    )
