"""Checks that a Kubeflow run reads and writes storage that every pod can reach."""

from __future__ import annotations

from core.config import ConfigError, PipelineConfig, is_remote_location


def check_cluster_locations(config: PipelineConfig) -> None:
    """Raises ConfigError unless data and outputs are URIs (gs://...), not local paths,
    and pushed models go to a bucket or a mounted volume.

    Each task runs in its own pod: a local path would be a different, empty directory
    in every one of them, except where a volume is mounted (the Pusher's serving dir).
    """
    problems = [
        f"--{flag} {value!r} is a local path: every Kubeflow pod must reach it, so use a bucket, "
        f"e.g. --{flag} gs://BUCKET/{example}"
        for flag, value, example in (
            ("output-dir", config.runner.output_dir, "image-transfer"),
            ("data-dir", config.data.data_dir, "tfds"),
        )
        if not is_remote_location(value)
    ]
    if is_remote_location(config.serving_dir):
        if config.kubeflow.serving_pvc:
            problems.append(
                f"--serving-pvc {config.kubeflow.serving_pvc!r} with the bucket --serving-dir "
                f"{config.serving_dir!r}: a volume is mounted at a path; drop one of the two"
            )
    elif not config.kubeflow.serving_pvc:
        problems.append(
            f"--serving-dir {config.runner.serving_dir or config.serving_dir!r}: every Kubeflow "
            "pod has a disk of its own; publish to a bucket the model server reads, e.g. "
            "--serving-dir gs://BUCKET/models, or to a volume mounted in the Pusher's pod, e.g. "
            "--serving-dir /serving --serving-pvc MODELS_PVC (a ReadWriteMany claim your model "
            "server mounts too)"
        )
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
