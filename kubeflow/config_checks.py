"""Validation of the Kubeflow section of the configuration, run only by `python -m kubeflow`.

`core.config.KubeflowConfig` is plain data; a local run never reads it, so
only the Kubeflow commands parse its Kubernetes quantities, node selectors,
tolerations and cron expression (the Beam runner is checked with the rest of the
configuration, `core.config`).
"""

from __future__ import annotations

import re

from core.config import MLMD_GRPC_PORT, ConfigError, KubeflowConfig, PipelineConfig
from kubeflow.cron import cron_problem

_CPU_QUANTITY = re.compile(r"^(\d+(\.\d+)?|\d+m)$")
_MEMORY_QUANTITY = re.compile(r"^\d+(\.\d+)?(E|Ei|P|Pi|T|Ti|G|Gi|M|Mi|K|Ki)?$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?[A-Za-z0-9]([\w.-]*[A-Za-z0-9])?$")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def parse_node_selector(text: str) -> dict[str, str]:
    """ "a=b,c=d" -> {"a": "b", "c": "d"}; raises ValueError naming the bad entry."""
    labels = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        key, sep, value = entry.partition("=")
        if not sep or not _LABEL_KEY.match(key):
            raise ValueError(f"{entry!r} is not label=value")
        labels[key] = value
    return labels


def parse_tolerations(text: str) -> list[dict[str, str]]:
    """Taints in kubectl's syntax, "key[=value]:Effect,...", as Kubernetes tolerations.

    A toleration without a value tolerates the taint whatever its value (operator Exists).
    """
    tolerations = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        key_value, sep, effect = entry.rpartition(":")
        key, has_value, value = key_value.partition("=")
        if not sep or effect not in _TAINT_EFFECTS or not _LABEL_KEY.match(key):
            raise ValueError(
                f"{entry!r} is not key[=value]:Effect (Effect: {', '.join(_TAINT_EFFECTS)})"
            )
        toleration = {"key": key, "operator": "Equal" if has_value else "Exists", "effect": effect}
        if has_value:
            toleration["value"] = value
        tolerations.append(toleration)
    return tolerations


def kubeflow_problems(kubeflow: KubeflowConfig) -> list[str]:
    """Every problem of the Kubeflow section, one line each with the fix."""
    problems = []
    if not kubeflow.image or any(c.isspace() for c in kubeflow.image):
        problems.append(
            f"--image {kubeflow.image!r} must be an image reference, e.g. REPO/NAME:TAG"
        )
    for flag, value in (("trainer-cpu", kubeflow.trainer_cpu), ("beam-cpu", kubeflow.beam_cpu)):
        if not _CPU_QUANTITY.match(value):
            problems.append(f"--{flag} {value!r}: write cores, e.g. '8' or '500m'")
    for flag, value in (
        ("trainer-memory", kubeflow.trainer_memory),
        ("beam-memory", kubeflow.beam_memory),
    ):
        if not _MEMORY_QUANTITY.match(value):
            problems.append(f"--{flag} {value!r}: write a quantity, e.g. '32G' or '16Gi'")
    for flag, count in (
        ("trainer-gpus", kubeflow.trainer_gpus),
        ("trainer-retries", kubeflow.trainer_retries),
    ):
        if count < 0:
            problems.append(f"--{flag} {count} must be 0 or more")
    if not _LABEL_KEY.match(kubeflow.trainer_accelerator):
        problems.append(
            f"--trainer-accelerator {kubeflow.trainer_accelerator!r} must be a resource name, "
            "e.g. 'nvidia.com/gpu'"
        )
    for flag, parse, value in (
        ("gpu-node-selector", parse_node_selector, kubeflow.gpu_node_selector),
        ("gpu-tolerations", parse_tolerations, kubeflow.gpu_tolerations),
    ):
        try:
            parse(value)
        except ValueError as error:
            problems.append(f"--{flag}: {error}")
    error = cron_problem(kubeflow.cron)
    if error:
        problems.append(f"--cron {kubeflow.cron!r}: {error}")
    if not kubeflow.kfp_mlmd_host or not 0 < kubeflow.kfp_mlmd_port < 65536:
        problems.append(
            f"--kfp-mlmd-host {kubeflow.kfp_mlmd_host!r} --kfp-mlmd-port {kubeflow.kfp_mlmd_port}: "
            "give the cluster's MLMD gRPC service, e.g. metadata-grpc-service.kubeflow "
            f"{MLMD_GRPC_PORT}"
        )
    for flag, count in (
        ("max-concurrency", kubeflow.max_concurrency),
        ("trainer-max-hours", kubeflow.trainer_max_hours),
    ):
        if count < 1:
            problems.append(f"--{flag} {count} must be at least 1")
    return problems


def check_kubeflow_config(config: PipelineConfig) -> None:
    """Raises ConfigError listing every problem of `config.kubeflow`.

    Args:
        config: an already validated configuration (its other sections are checked by
            `PipelineConfig.validate`).

    Raises:
        ConfigError: one line per problem, each naming the flag and the fix.
    """
    problems = kubeflow_problems(config.kubeflow)
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
