"""Quiet short commands: library chatter off the terminal unless --verbose.

Kept apart from `run_logging` (which imports Keras for the progress logger) so
that commands which never need TensorFlow do not import it to be quiet.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

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
    silenced = (1, 2) if stdout else (2,)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in silenced}
    devnull = os.open(os.devnull, os.O_WRONLY)
    previous_verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for fd in silenced:
                os.dup2(devnull, fd)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)
        absl_logging.set_verbosity(previous_verbosity)
