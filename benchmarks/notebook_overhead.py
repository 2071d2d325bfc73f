"""Benchmark: the whole `sample` run against the notebook it replaces, and where time goes.

Both run as fresh processes on the same generated images (600, the sample
profile's splits, 96 px, batch 16, 4 head + 1 fine-tune epochs):

- the pipeline: `python -m pipeline run --profile sample` (every component,
  the run report included), timed from the command to its exit;
- the notebook: `python -m benchmarks.notebook`, the guide as a plain script
  doing the same training and the same test evaluation: as written (the goal's
  baseline), and again with the Trainer's two start-up fixes (the AutoGraph
  rule of core.shims.tf_keras_left_unconverted, which takes most of the tracing
  away, and tf.data without autotuning, which waited 2 s at each epoch's
  end), so that the second ratio is what the orchestration itself costs.

Ratio goal: <= 1.5x. The breakdown comes from the run itself: per-component
seconds from its latest_run.json (ML Metadata execution times), the Trainer's
epochs from its history.json, against the notebook's own phase times. The run's
output directory is kept for benchmarks.serving and benchmarks.models_commands.

    flock /tmp/heavy.lock python -m benchmarks.notebook_overhead [--workdir DIR]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

from benchmarks.figures import Figure, Goal, record, stopwatch
from core.config import PipelineConfig

NAME = "notebook_overhead"
GOAL = Goal(1.5, at_least=False)
TRAIN_SECONDS = "train_seconds"  # trainer_module.callbacks.TRAIN_SECONDS, without importing TF


def timed(argv: list[str], log_path: str) -> float:
    """Wall seconds of running `argv` to completion, its output into `log_path`."""
    with open(log_path, "w") as log, stopwatch() as timing:
        subprocess.run(argv, check=True, stdout=log, stderr=subprocess.STDOUT)
    return timing["seconds"]


BEAM_START_UP = """
import time, apache_beam as beam
started = time.perf_counter()
with beam.Pipeline(argv=["--direct_running_mode=in_memory"]) as p:
    p | beam.Create([1]) | beam.Map(lambda x: x)
print(time.perf_counter() - started)
"""


def beam_start_up() -> float:
    """Seconds Beam takes to run a trivial pipeline, imports excluded (one per Beam component)."""
    done = subprocess.run(
        [sys.executable, "-c", BEAM_START_UP], check=True, capture_output=True, text=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=os.path.join("outputs", "bench", "sample"))
    args = parser.parse_args()
    workdir = os.path.abspath(args.workdir)
    data_dir, output_dir = os.path.join(workdir, "tfds"), os.path.join(workdir, "out")
    shutil.rmtree(output_dir, ignore_errors=True)  # a previous run's (the dataset stays)
    os.makedirs(workdir, exist_ok=True)
    python = [sys.executable]
    config = PipelineConfig.for_profile("sample", data_dir=data_dir, output_dir=output_dir)
    training = config.training

    subprocess.run(
        [*python, "-m", "pipeline", "generate-sample", "--if-missing", "--data-dir", data_dir],
        check=True,
        capture_output=True,
    )
    imports = timed(
        [*python, "-c", "import pipeline.cli, pipeline.local_runner"],
        os.path.join(workdir, "imports.log"),
    )
    pipeline_seconds = timed(
        [
            *python, "-m", "pipeline", "run", "--profile", "sample",
            "--data-dir", data_dir, "--output-dir", output_dir, "--no-enable-cache",
        ],
        os.path.join(workdir, "pipeline.log"),
    )  # fmt: skip
    notebook_argv = [
        *python, "-m", "benchmarks.notebook", "--data-dir", data_dir,
        "--image-size", str(config.data.image_size),
        "--batch-size", str(training.batch_size),
        "--head-epochs", str(training.head_epochs),
        "--fine-tune-epochs", str(training.fine_tune_epochs),
    ]  # fmt: skip
    notebook_json = os.path.join(workdir, "notebook.json")
    notebook_seconds = timed(
        [*notebook_argv, "--json", notebook_json], os.path.join(workdir, "notebook.log")
    )
    with open(notebook_json) as f:
        notebook = json.load(f)["seconds"]
    # The same script with the Trainer's start-up fixes: what orchestration alone costs.
    fixed_json = os.path.join(workdir, "notebook_fixed.json")
    fixed_seconds = timed(
        [*notebook_argv, "--json", fixed_json, "--trainer-start-up-fixes"],
        os.path.join(workdir, "notebook_fixed.log"),
    )
    with open(os.path.join(output_dir, "latest_run.json")) as f:
        run = json.load(f)
    (history_file,) = glob.glob(
        os.path.join(config.pipeline_root, "Trainer", "model_run", "*", "history.json")
    )
    with open(history_file) as f:
        history = json.load(f)

    figures = [
        Figure(
            NAME,
            "whole sample run, wall seconds",
            pipeline_seconds,
            "s",
            baseline=notebook_seconds,
            baseline_name="plain Keras script, same training + evaluation",
            goal=GOAL,
            note=f"sample profile, {config.data.sample_examples} images, every component",
        ),
        Figure(
            NAME,
            "whole sample run, wall seconds (the Trainer's start-up fixes in both)",
            pipeline_seconds,
            "s",
            baseline=fixed_seconds,
            baseline_name="plain Keras script with the Trainer's start-up fixes",
            note="the orchestration's own cost: AutoGraph rule, no tf.data autotuning in both",
        ),
        Figure(
            NAME,
            "imports (TF, TFX, Beam) before anything runs",
            imports,
            "s",
            baseline=notebook["imports"],
            baseline_name="notebook's imports (TF, TFDS)",
        ),
    ]
    # The notebook's counterpart of a component, where it has one.
    counterparts = {
        "Trainer": (
            notebook["data + model"] + notebook["head"] + notebook["fine_tune"],
            "notebook data + model + fit",
        ),
        "Evaluator": (notebook["evaluate"], "notebook model.evaluate (no TFMA)"),
    }
    for component in run["components"]:
        baseline, baseline_name = counterparts.get(component["component"], (None, ""))
        figures.append(
            Figure(
                NAME,
                f"component {component['component']}",
                component["seconds"],
                "s",
                baseline=baseline,
                baseline_name=baseline_name,
                note="ML Metadata execution time",
            )
        )
    figures.append(
        Figure(NAME, "Beam DirectRunner start-up: a one-element pipeline", beam_start_up(), "s")
    )
    for stage, notebook_stage in (("head", "head"), ("fine_tune", "fine_tune")):
        epochs = history[stage][TRAIN_SECONDS]
        figures.append(
            Figure(
                NAME,
                f"Trainer {stage}: training seconds (first epoch traces)",
                sum(epochs),
                "s",
                baseline=notebook[notebook_stage],
                baseline_name="notebook fit, validation included",
                note="first epoch " + f"{epochs[0]:.1f} s of {len(epochs)}",
            )
        )
    record(figures)


if __name__ == "__main__":
    main()
