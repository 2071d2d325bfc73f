"""The run's output capture: a log file that cannot be written (disk full) never hangs the run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import REPO_ROOT

# Writes 4 MB through fd 1 while the log file is /dev/full (every write: ENOSPC).
# The pipe holds 64 KB: if the copying thread died, the writes would block forever.
WRITE_THROUGH_A_FULL_DISK = textwrap.dedent(
    """
    import os, sys
    from pipeline.run_logging import captured_output
    with captured_output(sys.argv[1], verbose=False) as view:
        for _ in range(64):
            os.write(1, b"x" * 65536)
        view.print("progress still reaches the terminal")
    print("log error:", view.log_error.strerror)
    """
)


def test_a_full_disk_under_the_log_fails_the_log_not_the_pipe(tmp_path):
    log_path = tmp_path / "logs" / "run.log"
    log_path.parent.mkdir()
    os.symlink("/dev/full", log_path)
    # The timeout bounds a hang; it is not a timing assertion.
    result = subprocess.run(
        [sys.executable, "-c", WRITE_THROUGH_A_FULL_DISK, str(log_path)],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "progress still reaches the terminal" in result.stdout
    assert "log error: No space left on device" in result.stdout


def test_the_live_view_says_cached_when_tfx_reused_a_components_outputs():
    """The runner's and launcher's own log records, in the order LocalDagRunner emits them."""
    import io
    import logging

    from pipeline.run_logging import ProgressView

    terminal = io.StringIO()
    view = ProgressView(terminal)
    records = [
        ("Component %s is running.", ("Transform",)),
        ("A cached execution %d is used.", (7,)),
        ("Component %s is finished.", ("Transform",)),
        ("Component %s is running.", ("Trainer",)),
        ("Going to run a new execution %d", (8,)),
        ("Component %s is finished.", ("Trainer",)),
    ]
    for message, args in records:
        view.handle(logging.LogRecord("absl", logging.INFO, __file__, 1, message, args, None))
    lines = terminal.getvalue().splitlines()
    assert lines[1].endswith("✔ Transform (cached: reused an earlier run's outputs)")
    assert lines[3].endswith(" s)") and "✔ Trainer (" in lines[3] and "cached" not in lines[3]
    assert view.cached == {"Transform"}
