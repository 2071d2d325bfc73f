"""Checks that a Kubeflow run reads and writes storage that every pod can reach."""

from __future__ import annotations

from core.config import ConfigError, PipelineConfig, is_remote_location


def check_cluster_locations(config: PipelineConfig) -> None:
    """Raises ConfigError unless data and outputs are URIs (gs://...), not local paths,
    and pushed models go to a mounted volume.

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
    if is_remote_location(config.serving_dir) or not config.kubeflow.serving_pvc:
        problems.append(
            f"--serving-dir {config.runner.serving_dir or config.serving_dir!r}: on Kubeflow the "
            "Pusher publishes each version by an atomic rename, which buckets lack; mount a "
            "volume in its pod, e.g. --serving-dir /serving --serving-pvc MODELS_PVC (a "
            "ReadWriteMany claim your model server mounts too)"
        )
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
