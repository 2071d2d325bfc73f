"""The Trainer fails fast when its pod was given GPUs that TensorFlow cannot use."""

from __future__ import annotations

import pytest
import tensorflow as tf

from trainer_module import devices


def test_gpus_requested_but_none_visible_stop_with_what_tensorflow_sees():
    with pytest.raises(devices.MissingGpuError) as raised:
        devices.check_required_gpus([], {devices.REQUIRED_GPUS_ENV: "2"})
    message = str(raised.value)
    assert "2 GPU(s) requested" in message and "TensorFlow sees 0" in message
    # What TensorFlow does see (this machine's CPU) and what it was built for.
    assert "CPU /physical_device:CPU:0" in message
    build = tf.sysconfig.get_build_info()
    assert f"CUDA {build.get('cuda_version', 'none')}" in message
    assert f"cuDNN {build.get('cudnn_version', 'none')}" in message
    assert "--trainer-gpus 0" in message  # the way out for a deliberate CPU run


def test_fewer_visible_gpus_than_requested_also_stop():
    with pytest.raises(devices.MissingGpuError, match="TensorFlow sees 1"):
        devices.check_required_gpus(["/device:GPU:0"], {devices.REQUIRED_GPUS_ENV: "2"})


@pytest.mark.parametrize("environ", [{}, {devices.REQUIRED_GPUS_ENV: "0"}])
def test_no_gpu_requested_trains_on_whatever_is_there(environ):
    devices.check_required_gpus([], environ)


def test_as_many_gpus_as_requested_pass():
    devices.check_required_gpus(
        ["/device:GPU:0", "/device:GPU:1"], {devices.REQUIRED_GPUS_ENV: "2"}
    )
