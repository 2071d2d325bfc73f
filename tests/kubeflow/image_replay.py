"""`make image-test`, last step: replays the whole compiled pipeline inside the image.

Usage: python -m tests.kubeflow.image_replay IMAGE WORKDIR

The same replay as tests/kubeflow/test_kfp_replay.py (KFP's driver, launcher and cache
ported from the Go backend at the newest modelled release, `executor-logs` included; a
real MLMD store over gRPC), except that each task's command runs in `docker run IMAGE`
on the host network, with WORKDIR mounted at the same path. Every task of the sample
profile runs (the store, bucket and cache table are fresh each time); the exit code of
each task's container is printed, and any non-zero one fails the replay.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from core.config import PipelineConfig
from core.metadata import store
from kubeflow.compile import write_pipeline_yaml
from pipeline.sample_data import generate_sample_dataset
from tests.kubeflow.kfp_replay import KfpReplay, ReplayError
from tests.pipeline.mlmd_grpc_server import serve_sqlite


def main(image: str, workdir: str) -> int:
    root = Path(workdir).resolve()
    # A fresh store, bucket and cache table every time, so every task runs in the image
    # (a previous run's cache hits would run nothing); the sample dataset is reused.
    for state in ("mlmd.sqlite", "bucket", "replay", "serving"):
        path = root / state
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    data_dir = root / "tfds"
    if not data_dir.exists():
        generate_sample_dataset(str(data_dir), num_examples=60, seed=0)
    server, port = serve_sqlite(str(root / "mlmd.sqlite"))
    try:
        config = PipelineConfig.for_profile(
            "sample",
            output_dir=str(root / "bucket"),
            data_dir=str(data_dir),
            serving_dir=str(root / "serving"),
            serving_pvc="replay-models",
            kfp_mlmd_host="localhost",
            kfp_mlmd_port=port,
            trainer_gpus=0,
            fine_tune_epochs=0,
            min_accuracy=0.0,
            image=image,
        )
        package = write_pipeline_yaml(config, str(root / "pipeline.yaml"))
        replay = KfpReplay(package, port, root / "replay", image=image, mounts=(str(root),))
        try:
            result = replay.run("image-test")
        except ReplayError as error:
            print(f"a task failed in {image}: {error}", file=sys.stderr)
            return 1
    finally:
        server.stop(None)
    for name in replay.package.task_order():
        task = result.tasks[name]
        print(f"{name}\t{task.state}\texit codes {task.exit_codes}\t{task.seconds:.1f} s")
    tasks = set(replay.package.task_order())
    if result.executed() != tasks:
        print(f"only {sorted(result.executed())} of {sorted(tasks)} ran", file=sys.stderr)
        return 1
    pushed = result.tasks["Pusher"].outputs["pushed_model"]
    print(
        f"replayed all {len(tasks)} tasks in {image} ({result.task_seconds():.0f} task-seconds);"
        f" pushed version {store.string_property(pushed, 'pushed_version')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
