"""Where and in which precision the model trains: distribution strategy and mixed precision.

Both are decided from the configuration and the devices TensorFlow sees, so the
same run_fn uses every GPU of a multi-GPU machine and still runs on a laptop CPU.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import tensorflow as tf
import tf_keras as keras

# Set by the compiled Kubeflow Trainer task to the GPUs its pod requests (kubeflow/compile.py).
REQUIRED_GPUS_ENV = "TRAINER_REQUIRED_GPUS"

# The config's `mixed_precision` value -> the Keras policy the layers compute in.
_POLICIES = {"none": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


@dataclass(frozen=True)
class StrategyPlan:
    """Which strategy to use, on which devices, and the global batch it implies."""

    kind: str  # "mirrored" (several GPUs) or "default" (one device)
    devices: tuple[str, ...]
    global_batch_size: int

    @property
    def replica_batch_size(self) -> float:
        """Examples each replica sees per step (the last replica may get fewer)."""
        return self.global_batch_size / max(1, len(self.devices))


def plan_strategy(gpu_names: list[str], global_batch_size: int) -> StrategyPlan:
    """A pure function of the visible GPUs: MirroredStrategy from two GPUs up.

    `batch_size` in the config is the global batch, the guide's 32: MirroredStrategy
    splits each batch over the replicas (32 / N each), so N GPUs apply the guide's
    learning rate to gradients of the guide's batch size and the recipe is unchanged.
    """
    if len(gpu_names) > 1:
        return StrategyPlan("mirrored", tuple(gpu_names), global_batch_size)
    return StrategyPlan("default", tuple(gpu_names), global_batch_size)


def visible_gpu_names() -> list[str]:
    """Logical GPU device names, e.g. ['/device:GPU:0', '/device:GPU:1']."""
    return [device.name for device in tf.config.list_logical_devices("GPU")]


class MissingGpuError(RuntimeError):
    """GPUs were requested for the Trainer but TensorFlow cannot use them."""


def check_required_gpus(visible: list[str], environ: dict[str, str] | None = None) -> None:
    """Fails fast when the pod was given GPUs that TensorFlow does not see.

    A CUDA or cuDNN version the driver cannot load makes TensorFlow fall back to the
    CPU without an error, and a full-size training then runs for days on CPU. The
    message shows what TensorFlow does see and which CUDA/cuDNN it was built for,
    which is what tells a driver mismatch from a missing device plugin.
    """
    environ = os.environ if environ is None else environ
    required = int(environ.get(REQUIRED_GPUS_ENV) or 0)
    if required <= len(visible):
        return
    build = tf.sysconfig.get_build_info()
    seen = [f"{d.device_type} {d.name}" for d in tf.config.list_physical_devices()]
    raise MissingGpuError(
        f"{required} GPU(s) requested ({REQUIRED_GPUS_ENV}={required}) but TensorFlow sees "
        f"{len(visible)}: devices {', '.join(seen) or 'none'}; TensorFlow "
        f"{tf.__version__} built with CUDA {build.get('cuda_version', 'none')}, cuDNN "
        f"{build.get('cudnn_version', 'none')} (is_cuda_build={build.get('is_cuda_build')}). "
        "Check `nvidia-smi` in the pod, that the node's driver supports that CUDA version, "
        "and that the image has TensorFlow's GPU libraries (tensorflow[and-cuda]); or "
        "compile with --trainer-gpus 0 to train on CPU on purpose."
    )


def make_strategy(plan: StrategyPlan) -> tf.distribute.Strategy:
    """The strategy `plan` names: MirroredStrategy over its devices, or the default one."""
    if plan.kind == "mirrored":
        return tf.distribute.MirroredStrategy(devices=list(plan.devices))
    return tf.distribute.get_strategy()


def keras_policy_name(mixed_precision: str) -> str:
    """The Keras policy for the config's `mixed_precision`: "none" -> "float32", ..."""
    return _POLICIES[mixed_precision]


@contextlib.contextmanager
def precision_policy(mixed_precision: str) -> Iterator[None]:
    """Layers created inside compute in the configured precision; the global policy is
    restored afterwards so that nothing built later (Transform's layer, other models in
    the same process) inherits it. Layers keep the policy they were created with.
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(keras_policy_name(mixed_precision))
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
