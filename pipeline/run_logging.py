"""The run's terminal view: its own progress on screen, every other line in the log file.

TensorFlow's C++ runtime, Beam, absl and warnings write thousands of lines
straight to file descriptors 1 and 2. To keep them off the screen without
losing them, both descriptors are redirected into a pipe for the duration of
the run; a thread copies the pipe into the log file (and, with --verbose, to
the terminal too). Progress lines are written to the real terminal directly.

The copying thread never stops reading the pipe: if it did (say the log's
disk is full), the pipe would fill and every thread writing to fd 1/2 would
block, hanging the run. A write error is kept (`ProgressView.log_error`) and
the copying goes on without the log file; the runner fails the run with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO

from absl import logging as absl_logging

from trainer_module.progress import PROGRESS_LOGGER

_COMPONENT_RUNNING = "Component %s is running."
_COMPONENT_FINISHED = "Component %s is finished."
# TFX's launcher, between the two above, when the cache answered instead of the executor.
_CACHED_EXECUTION_USED = "A cached execution %d is used."


class ProgressView(logging.Handler):
    """Turns the runner's component start/finish records and progress records into lines."""

    def __init__(self, terminal: IO[str]):
        super().__init__(level=logging.INFO)
        self._terminal = terminal
        self._started: dict[str, float] = {}
        self._running: str | None = None
        self.seconds: dict[str, float] = {}
        self.cached: set[str] = set()
        # The first error writing the log file (e.g. ENOSPC), set by the copying thread.
        self.log_error: OSError | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == _COMPONENT_RUNNING:
            node_id = str(record.args[0])
            self._started[node_id] = record.created
            self._running = node_id
            self.print(f"▶ {node_id}")
        elif record.msg == _CACHED_EXECUTION_USED and self._running:
            self.cached.add(self._running)
        elif record.msg == _COMPONENT_FINISHED:
            node_id = str(record.args[0])
            self.seconds[node_id] = record.created - self._started.get(node_id, record.created)
            if node_id in self.cached:
                self.print(f"✔ {node_id} (cached: reused an earlier run's outputs)")
            else:
                self.print(f"✔ {node_id} ({self.seconds[node_id]:.1f} s)")
        elif record.name == PROGRESS_LOGGER:
            self.print(f"    {record.getMessage()}")

    def print(self, line: str) -> None:
        self._terminal.write(f"[{time.strftime('%H:%M:%S')}] {line}\n")
        self._terminal.flush()


@contextlib.contextmanager
def captured_output(log_path: str, verbose: bool) -> Iterator[ProgressView]:
    """Routes fd 1/2 into `log_path` (and the terminal if verbose); yields the progress view."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_stdout, saved_stderr = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_stdout), "w", buffering=1, encoding="utf-8")
    read_end, write_end = os.pipe()
    log_file = open(log_path, "ab")
    view = ProgressView(terminal)
    pump = threading.Thread(
        target=_copy_pipe,
        args=(read_end, log_file, saved_stderr if verbose else None, view),
        daemon=True,
    )
    pump.start()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)

    loggers = [logging.getLogger("absl"), logging.getLogger(PROGRESS_LOGGER)]
    progress_level = loggers[1].level
    previous_verbosity = absl_logging.get_verbosity()
    # Through absl's verbosity flag, not the logger: TensorFlow saves and
    # restores that flag while saving models, which would undo a plain setLevel.
    absl_logging.set_verbosity(absl_logging.INFO)
    loggers[1].setLevel(logging.INFO)
    for logger in loggers:
        logger.addHandler(view)
    try:
        yield view
    finally:
        for logger in loggers:
            logger.removeHandler(view)
        loggers[1].setLevel(progress_level)
        absl_logging.set_verbosity(previous_verbosity)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_stdout, 1)
        os.dup2(saved_stderr, 2)
        pump.join(timeout=10)  # ends when the last writer (fd 1/2) is closed
        for fd in (saved_stdout, saved_stderr):
            os.close(fd)
        with contextlib.suppress(OSError):  # already reported as view.log_error
            log_file.close()
        terminal.close()


def _copy_pipe(read_end: int, log_file: IO[bytes], echo_fd: int | None, view: ProgressView) -> None:
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            if view.log_error is None:
                try:
                    log_file.write(chunk)
                    log_file.flush()
                except OSError as error:
                    view.log_error = error
            if echo_fd is not None:
                with contextlib.suppress(OSError):
                    os.write(echo_fd, chunk)
