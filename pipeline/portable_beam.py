"""Beam's own portable services on this machine: its job service and an external SDK worker pool.

These are the Fn API services behind Flink, Spark and Dataflow Runner v2: the job service
(`apache_beam.runners.portability.local_job_service_main`) takes a pipeline from
`--runner=PortableRunner` and runs it with Beam's FnApiRunner, which hands every bundle to
SDK workers it requests from the worker pool (`apache_beam.runners.worker.worker_pool_main`,
`--environment_type=EXTERNAL`). Nothing here runs or schedules work itself: it starts the two
processes and says which flags reach them. Used by `make portable-test`
(tests/test_portable_runner.py) and `benchmarks/data_path.py`; the README shows the same two
commands for a shell.

What Beam 2.59 allows here:
- The worker pool starts each SDK worker as `python -m apache_beam.runners.worker.
  sdk_worker_main` with the `python` first on PATH, so PATH starts with this interpreter's
  directory (the project's venv): a worker imports the same packages as the pipeline.
- One worker per job: the job service runs `FnApiRunner.run_via_runner_api`, which never
  reads `--direct_num_workers` (only `FnApiRunner.run` does) and knows no
  `--sdk_worker_parallelism` (a Flink/Spark job server option), so its FnApiRunner keeps
  one worker per environment (apache_beam/runners/portability/local_job_service.py,
  `_invoke_runner`; fn_api_runner/fn_runner.py). Parallel bundles in separate SDK worker
  processes are what the DirectRunner's `multi_processing` mode runs (the same
  sdk_worker_main over the Fn API, one process per worker).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

JOB_SERVICE = "apache_beam.runners.portability.local_job_service_main"
WORKER_POOL = "apache_beam.runners.worker.worker_pool_main"


@dataclass(frozen=True)
class PortableServices:
    """Where the running services listen, and the `--beam-options` that reach them."""

    job_port: int
    worker_pool_port: int
    worker_pool: subprocess.Popen | None = None  # None: a pool started elsewhere (a container)

    @property
    def beam_options(self) -> str:
        return (
            f"--job_endpoint=localhost:{self.job_port} --environment_type=EXTERNAL "
            f"--environment_config=localhost:{self.worker_pool_port}"
        )


@contextlib.contextmanager
def portable_services(
    log_dir: str, worker_pool_command: list[str] | None = None, timeout: float = 120
) -> Iterator[PortableServices]:
    """Starts the job service and a worker pool (this venv's, or `worker_pool_command` with
    `{port}` in it, e.g. a `docker run` of the project's image), stops both on exit.

    Raises:
        RuntimeError: a service did not listen within `timeout` seconds (its log is named).
    """
    os.makedirs(log_dir, exist_ok=True)
    job_port, pool_port = _free_port(), _free_port()
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    pool_command = [
        part.format(port=pool_port)
        for part in worker_pool_command
        or [sys.executable, "-m", WORKER_POOL, "--service_port={port}"]
    ]
    commands = {
        "job_service": [sys.executable, "-m", JOB_SERVICE, f"--port={job_port}"],
        "worker_pool": pool_command,
    }
    with contextlib.ExitStack() as running:
        processes = {}
        for name, command in commands.items():
            log = running.enter_context(open(os.path.join(log_dir, f"{name}.log"), "ab"))
            process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            running.callback(_stop, process)
            processes[name] = process
        for name, port in (("job_service", job_port), ("worker_pool", pool_port)):
            _wait_for_port(port, processes[name], os.path.join(log_dir, f"{name}.log"), timeout)
        yield PortableServices(job_port, pool_port, processes["worker_pool"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(process.args[:3])} exited ({process.returncode}): {log}")
        with contextlib.suppress(OSError), socket.create_connection(("localhost", port), 1):
            return
        time.sleep(0.5)
    raise RuntimeError(f"nothing listened on port {port} after {timeout:.0f} s: see {log}")


def _stop(process: subprocess.Popen) -> None:
    """Stops a service and the SDK workers it started (its process group)."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
