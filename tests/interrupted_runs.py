"""Runs of the real CLI that are SIGKILLed and run again, on a copy of e2e_run's outputs.

Code edits are made in a copy of our packages put first on PYTHONPATH, never in
this checkout. Used by tests/conftest.py (worse_run) and tests/test_reruns.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.serving_layout import versions
from tests.conftest import MODEL_NAME, PipelineRun, sample_run_args
from tests.helpers import copy_of_the_code


@dataclass
class KilledThenRerun(PipelineRun):
    """The rerun, with what the killed run printed and the versions published before it."""

    killed_output: str = ""
    versions_before: list[int] = field(default_factory=list)


def copy_of_outputs(e2e_run: PipelineRun, tmp_path_factory, name: str) -> Path:
    """e2e_run's output directory without its artifacts (MLMD still points at e2e_run's)."""
    output_dir = tmp_path_factory.mktemp(name) / "outputs"
    shutil.copytree(
        e2e_run.output_dir, output_dir, ignore=shutil.ignore_patterns("pipeline_root", "logs")
    )
    return output_dir


def edited_code(tmp_path_factory, edited: str) -> Path:
    """A copy of our packages with a comment appended to `edited`."""
    return copy_of_the_code(tmp_path_factory.mktemp("code"), edited)


def pipeline_process(args: list[str], code_root: Path, cwd: Path | None = None) -> dict:
    """Popen's args, cwd and env for `python -m pipeline ARGS` with the packages of
    `code_root` first on the path (the killed run and its rerun are the same command),
    in `cwd` (default: `code_root`)."""
    return {
        "args": [sys.executable, "-m", "pipeline", *args],
        "cwd": cwd or code_root,
        "env": {**os.environ, "PYTHONPATH": str(code_root)},
    }


def run_and_kill(
    args: list[str],
    code_root: Path,
    marker: str,
    then: Callable[[], bool],
    signal_number: int = signal.SIGKILL,
    cwd: Path | None = None,
) -> str:
    """Starts `python -m pipeline ARGS`; once `marker` appears in the live view and `then()`
    holds, sends `signal_number` to its process group: SIGKILL as the machine dying would,
    SIGINT as Ctrl-C in a terminal does. Returns everything it printed."""
    process = subprocess.Popen(
        **pipeline_process(args, code_root, cwd),
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
            os.killpg(process.pid, signal_number)
            break
    rest, _ = process.communicate(timeout=120)
    # Ctrl-C is the run's to handle: it stops, says so and exits 130 (128 + SIGINT)
    expected = 130 if signal_number == signal.SIGINT else -signal_number
    assert process.returncode == expected, "".join(printed) + rest
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


def kill_then_rerun(
    e2e_run, tmp_path_factory, edited: str, marker: str, then: Callable[[Path], bool], *extra: str
) -> KilledThenRerun:
    """With `edited` changed, a run SIGKILLed at `marker` once `then(output_dir)` holds,
    then the same command to the end."""
    output_dir = copy_of_outputs(e2e_run, tmp_path_factory, "killed")
    code = edited_code(tmp_path_factory, edited)
    args = sample_run_args(e2e_run.data_dir, output_dir, *extra)
    killed = run_and_kill(args, code, marker, lambda: then(output_dir))
    versions_before = versions(str(output_dir / "serving" / MODEL_NAME))
    process = subprocess.run(
        **pipeline_process(args, code),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return KilledThenRerun(process, output_dir, e2e_run.data_dir, killed, versions_before)
