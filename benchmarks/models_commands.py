"""Benchmark: how long `models list` and `models show` take, and their peak memory.

Each command runs in a fresh interpreter, as a person types it, against the
ML Metadata of an existing run (`--output-dir`, default `outputs/`: run `make
demo` first). Prints the median wall time and the peak RSS of each, beside
`import tensorflow` alone, which these commands no longer pay for. Goal: under
3 s each on 2 CPU cores.

    flock /tmp/heavy.lock python -m benchmarks.models_commands [--output-dir DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

from benchmarks.figures import Figure, Goal, record

GOAL = Goal(3.0, at_least=False, on_ratio=False)


def measure(argv: list[str], repeat: int) -> tuple[float, float]:
    """(median seconds, peak RSS in MB) of running `argv` `repeat` times."""
    seconds, peaks = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        seconds.append(time.perf_counter() - started)
        # ru_maxrss of children is the largest child so far (KB on Linux).
        peaks.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024)
    return statistics.median(seconds), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="outputs", help="a run's output directory")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command [default: 3]")
    args = parser.parse_args()
    pipeline = [sys.executable, "-m", "pipeline"]
    where = ["--output-dir", args.output_dir]
    listed = subprocess.run(
        [*pipeline, "models", "list", "--json", *where], check=True, capture_output=True, text=True
    )
    models = json.loads(listed.stdout)
    if not models:
        sys.exit(f"no trained model in {args.output_dir}: run the pipeline first (make demo)")
    commands = {
        "models list": [*pipeline, "models", "list", *where],
        f"models show {models[-1]['id']}": [
            *pipeline, "models", "show", str(models[-1]["id"]), *where
        ],
        "import tensorflow (for scale)": [sys.executable, "-c", "import tensorflow"],
    }  # fmt: skip
    figures = []
    for name, argv in commands.items():
        seconds, peak = measure(argv, args.repeat)
        figures.append(
            Figure(
                "models_commands",
                f"{name}, median wall time",
                seconds,
                "s",
                goal=None if name.startswith("import") else GOAL,
                note=f"peak RSS {peak:.0f} MB, fresh interpreter",
            )
        )
    record(figures)


if __name__ == "__main__":
    main()
