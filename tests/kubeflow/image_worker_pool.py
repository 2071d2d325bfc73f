"""The Beam components with their SDK workers inside the project image (`make image-test`).

Beam's job service runs here; the worker pool is `docker run` of the image
(`worker_pool_main`, host network), so every bundle of ExampleGen, StatisticsGen,
Transform and the Evaluator runs in the image's Python with the image's packages: the
same worker code Flink or Spark would start from `--environment_type=EXTERNAL` or a
pool sidecar. The data and output directories are mounted at the same paths, as a
cluster's workers see one bucket. Prints the run's summary and exits non-zero on failure.

    python -m tests.kubeflow.image_worker_pool IMAGE WORKDIR
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from pipeline.portable_beam import WORKER_POOL, portable_services
from pipeline.sample_data import generate_sample_dataset


def main(image: str, workdir: str) -> int:
    root = Path(workdir).resolve()
    data_dir, output_dir = root / "tfds", root / "out"
    if not data_dir.exists():
        generate_sample_dataset(str(data_dir), num_examples=300, seed=0)
    output_dir.mkdir(parents=True, exist_ok=True)
    name = f"beam-worker-pool-{uuid.uuid4().hex[:8]}"
    pool = [
        "docker", "run", "--rm", "--name", name, "--network", "host",
        "-v", f"{root}:{root}", "--entrypoint", "python", image,
        "-m", WORKER_POOL, "--service_port={port}",
    ]  # fmt: skip
    try:
        with portable_services(str(root / "beam_services"), worker_pool_command=pool) as services:
            result = subprocess.run(
                [
                    sys.executable, "-m", "pipeline", "run", "--profile", "sample",
                    "--data-dir", str(data_dir), "--output-dir", str(output_dir),
                    "--beam-runner", "PortableRunner",
                    f"--beam-options={services.beam_options}",
                ],
                timeout=1800,
            )  # fmt: skip
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
