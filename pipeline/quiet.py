"""Quiet short commands: library chatter off the terminal unless --verbose.

Kept apart from `run_logging` (which imports Keras for the progress logger) so
that commands which never need TensorFlow do not import it to be quiet.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from absl import logging as absl_logging


@contextlib.contextmanager
def quiet_libraries(verbose: bool, stdout: bool = False) -> Iterator[None]:
    """Keeps library chatter (TensorFlow's C++ start-up lines, TFDS progress bars, absl INFO,
    deprecation warnings) off the terminal for short commands, unless `verbose`.

    Short commands have no log file, so fd 2 goes to /dev/null for the duration:
    the C++ runtime writes there directly, below any Python logging setting.
    Our own output goes to stdout, and errors are printed after the block.
    `stdout=True` silences fd 1 too, for libraries that print there (TFDS).
    """
    if verbose:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    devnull = os.open(os.devnull, os.O_WRONLY)
    previous_verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        with warnings.catch_warnings(), _redirected((1, 2) if stdout else (2,), devnull):
            warnings.simplefilter("ignore")
            yield
    finally:
        os.close(devnull)
        absl_logging.set_verbosity(previous_verbosity)


@contextlib.contextmanager
def _redirected(fds: tuple[int, ...], target: int) -> Iterator[None]:
    """The file descriptors `fds` write to `target` for the block, and are restored after it
    (Python's buffers flushed on both sides, so nothing lands on the wrong side)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in fds}
    try:
        for fd in fds:
            os.dup2(target, fd)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)


@dataclass
class HeldOutput:
    """Library output held back until the run's log exists; our own lines go to `terminal`."""

    terminal: IO[str]
    _file: IO[bytes]

    def text(self) -> str:
        """Everything the libraries wrote so far, for the top of the run's log."""
        self._file.flush()
        self._file.seek(0)
        return self._file.read().decode(errors="replace")


@contextlib.contextmanager
def held_for_the_log(verbose: bool) -> Iterator[HeldOutput]:
    """fd 1 and 2 into a temporary file (shown too, if `verbose`) while a run starts: importing
    TensorFlow (its C++ start-up lines), preparing an image folder (TFDS's progress), before the
    run's log file is opened. The caller writes `text()` at the top of that log."""
    sys.stdout.flush()
    sys.stderr.flush()
    terminal = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    held_file = tempfile.TemporaryFile()
    if verbose:
        with contextlib.closing(terminal):
            yield HeldOutput(terminal, held_file)
        return
    try:
        with _redirected((1, 2), held_file.fileno()):
            yield HeldOutput(terminal, held_file)
    finally:
        terminal.close()
