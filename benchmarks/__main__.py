"""`make bench`: every benchmark, each in its own process, then docs/PERFORMANCE.md.

Each benchmark is a fresh interpreter (its imports and memory are its own) that
appends its figures to one results file; a benchmark that fails is reported
and the others still run, and the document is written from whatever was
measured. Order: most important first (issue 14), the cheap ones that reuse
an earlier benchmark's outputs right after it.

    flock /tmp/heavy.lock python -m benchmarks [--bench-dir outputs/bench] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from benchmarks.figures import RESULTS_ENV


def plan(bench_dir: str) -> dict[str, list[str]]:
    """Benchmark name -> its module and arguments, in running order."""
    data_path = os.path.join(bench_dir, "data_path")
    sample = os.path.join(bench_dir, "sample")
    return {
        "data_path": ["benchmarks.data_path", "--workdir", data_path],
        # Reuses data_path's generated photos: Transform with and without each patch.
        "patches": [
            "benchmarks.patches", "--data-path-workdir", data_path,
            "--workdir", os.path.join(bench_dir, "patches"),
        ],
        "input_pipeline": ["benchmarks.input_pipeline", "--data-path-workdir", data_path],
        "notebook_overhead": ["benchmarks.notebook_overhead", "--workdir", sample],
        "serving": ["benchmarks.serving", "--output-dir", os.path.join(sample, "out")],
        "models_commands": [
            "benchmarks.models_commands", "--output-dir", os.path.join(sample, "out")
        ],
        # Each stage's ratio is of its fastest epoch after the first (which traces): three
        # of each, so one slowed epoch cannot decide it (one fine-tune epoch once gave 0.93x).
        "trainer_throughput": [
            "benchmarks.trainer_throughput", "--workdir", os.path.join(bench_dir, "throughput"),
            "--head-epochs", "4", "--fine-tune-epochs", "4",
        ],
        # Its default size: the cache pays its one extraction pass back over 20 epochs.
        "feature_cache": ["benchmarks.feature_cache"],
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", default=os.path.join("outputs", "bench"))
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--out", default=os.path.join("docs", "PERFORMANCE.md"))
    parser.add_argument(
        "--keep-results", action="store_true", help="add to the figures already recorded"
    )
    args = parser.parse_args()
    os.makedirs(args.bench_dir, exist_ok=True)
    results = os.path.join(args.bench_dir, "figures.json")
    if os.path.exists(results) and not args.keep_results:
        os.remove(results)
    env = {**os.environ, RESULTS_ENV: results}
    wanted = set(filter(None, args.only.split(",")))
    started = time.monotonic()
    failed = []
    for name, argv in plan(args.bench_dir).items():
        if wanted and name not in wanted:
            continue
        print(f"=== {name} ({(time.monotonic() - started) / 60:.1f} min in)", flush=True)
        if subprocess.run([sys.executable, "-m", *argv], env=env).returncode != 0:
            failed.append(name)
            print(f"=== {name} FAILED (see its output above); going on", flush=True)
    total = time.monotonic() - started
    subprocess.run(
        [
            sys.executable, "-m", "benchmarks.performance_doc",
            "--results", results, "--out", args.out, "--total-seconds", str(total),
            *(["--failed", ",".join(failed)] if failed else []),
        ],
        check=True,
    )  # fmt: skip
    print(
        f"make bench: {total / 60:.1f} min" + (f", failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
