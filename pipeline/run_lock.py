"""One run at a time per output directory: a lock file that names the run holding it.

Two runs on one output directory would share one sqlite ML Metadata store and
one pipeline_root: sqlite would answer one of them "database is locked", and
each run's summary could describe the other. So a run takes
`<output dir>/run.lock` first; a second run stops at once and says which run
(pid, host, start time, command) holds it.

The lock is an advisory `flock` on the file, which the kernel releases when its
process ends, however it ends: a run killed with SIGKILL leaves no lock behind,
and the next run takes over without anyone deleting anything. The pid and
start time written into the file are only there for the message.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator

LOCK_FILE = "run.lock"


class RunLockedError(RuntimeError):
    """Another run holds the output directory; the message names it."""


@contextlib.contextmanager
def output_dir_lock(output_dir: str) -> Iterator[str]:
    """Holds `<output_dir>/run.lock` for the duration of the block; yields its path.

    Raises:
        RunLockedError: another live process holds it.
        OSError: the output directory cannot be created or written.
    """
    path = os.path.join(output_dir, LOCK_FILE)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            raise RunLockedError(_held_message(output_dir, _read_holder(fd))) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_this_run()).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # released: nobody's name stays in it
    finally:
        os.close(fd)  # releases the flock


def ensure_free(output_dir: str) -> None:
    """Fails at once if another run holds `output_dir`: before the CLI spends ~40 s importing
    TensorFlow. (The run itself still takes the lock; this is only the early answer.)

    Raises:
        RunLockedError: another live process holds it.
    """
    if os.path.isdir(output_dir):
        with contextlib.suppress(OSError), output_dir_lock(output_dir):  # reported by the run
            pass  # taking the lock and letting go of it is the whole check


def _this_run() -> dict:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join(sys.argv),
    }


def _read_holder(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 65536, 0).decode() or "{}")
    except ValueError:
        return {}


def _held_message(output_dir: str, holder: dict) -> str:
    who = (
        f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
        f"started {holder.get('started', '?')}: {holder.get('command', '?')}"
    )
    return (
        f"another run is using {output_dir} ({who}). Wait for it to finish, or use another "
        "--output-dir; two runs on one directory would share its ML Metadata store"
    )
