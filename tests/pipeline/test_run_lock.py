"""One run per output directory: the second stops at once naming the first; a dead run's lock
is taken over. Real processes, real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from pipeline.run_lock import LOCK_FILE, RunLockedError, output_dir_lock
from tests.conftest import REPO_ROOT, run_cli, sample_run_args

HOLD_THE_LOCK = textwrap.dedent(
    """
    import sys, time
    from pipeline.run_lock import output_dir_lock
    with output_dir_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(600)
    """
)


@pytest.fixture
def holder(tmp_path):
    """A live process holding the lock of tmp_path/out, as a running pipeline would."""
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(output_dir)],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "held"
    yield process, output_dir
    process.kill()
    process.wait()


def test_a_second_run_stops_naming_the_running_one_before_importing_tensorflow(
    holder, sample_data_dir
):
    process, output_dir = holder
    # A 60 s bound, not a timing assertion: a run that waited or ran would exceed it.
    result = run_cli(*sample_run_args(sample_data_dir, output_dir), cwd=output_dir, timeout=60)
    assert result.returncode == 1
    assert f"another run is using {output_dir} (pid {process.pid} on " in result.stderr
    assert "Traceback" not in result.stderr and "database is locked" not in result.stderr
    assert not (output_dir / "metadata.sqlite").exists()  # nothing of it ran


def test_the_lock_of_a_killed_run_is_taken_over(holder):
    process, output_dir = holder
    with pytest.raises(RunLockedError, match=f"pid {process.pid} "):
        with output_dir_lock(str(output_dir)):
            pass  # only taking the lock is under test
    process.send_signal(signal.SIGKILL)
    process.wait()
    with output_dir_lock(str(output_dir)) as path:
        assert json.loads(open(path).read())["pid"] == os.getpid()
    assert (output_dir / LOCK_FILE).read_text() == ""  # released: names nobody
