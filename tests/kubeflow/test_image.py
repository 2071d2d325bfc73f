"""The Dockerfile of the Kubeflow image installs the environment the tests run in.

Checked without building (building is `make image-test`, not part of `make test`):
Python 3.11 as setup.py requires, exactly requirements/lock.txt installed the way the
Makefile installs it, the Beam SDK image of the locked Beam for the worker boot,
TF_USE_LEGACY_KERAS, and every package of the project copied in. The GPU image's lock
(requirements/lock-gpu.txt) is the same resolution plus TensorFlow's CUDA wheels only.
"""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
MAKEFILE = (REPO_ROOT / "Makefile").read_text()


def _arg(name: str) -> str:
    return re.search(rf"^ARG {name}=(\S+)$", DOCKERFILE, re.M).group(1)


def _lock(name: str = "lock.txt") -> dict[str, str]:
    """The pins of requirements/`name`, by normalised package name."""
    pins = re.findall(
        r"^([A-Za-z0-9_.\-]+)==(\S+)", (REPO_ROOT / "requirements" / name).read_text(), re.M
    )
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def test_the_base_is_the_python_setup_py_requires():
    assert _arg("BASE_IMAGE").startswith("python:3.11")
    assert 'python_requires=">=3.11,<3.12"' in (REPO_ROOT / "setup.py").read_text()
    assert "python3.11 -m venv /opt/venv" in DOCKERFILE


def test_the_image_installs_the_lock_exactly_like_the_makefile():
    assert _arg("LOCK") == "requirements/lock.txt"
    assert "uv pip sync" in DOCKERFILE and "uv pip sync" in MAKEFILE
    uv = re.search(r'"uv==(\S+)"', MAKEFILE).group(1)
    assert f'"uv=={uv}"' in DOCKERFILE
    for pinned in re.findall(r"--no-deps (tfx==\S+ ml-pipelines-sdk==\S+)", MAKEFILE):
        assert pinned in " ".join(DOCKERFILE.split())
    assert "--no-deps --no-build-isolation ." in DOCKERFILE  # the project: setuptools from the lock


def test_the_worker_boot_comes_from_the_beam_release_of_the_lock():
    image, version = _arg("BEAM_SDK_IMAGE").split(":")
    assert image == "apache/beam_python3.11_sdk"
    assert _lock()["apache-beam"] == version
    assert 'ENTRYPOINT ["/opt/apache/beam/boot"]' in DOCKERFILE


def test_legacy_keras_is_on_in_the_image():
    assert re.search(r"^ENV TF_USE_LEGACY_KERAS=1", DOCKERFILE, re.M)


def test_every_package_of_the_project_is_copied_in():
    copied = set(re.findall(r"^COPY (\S+?)/? ", DOCKERFILE, re.M))
    packages = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert packages | {"setup.py"} <= copied


def test_the_gpu_lock_is_the_lock_plus_the_cuda_wheels_of_the_locked_tensorflow():
    lock, gpu = _lock(), _lock("lock-gpu.txt")
    shared = lock.keys() & gpu.keys()
    assert {name: gpu[name] for name in shared} == {name: lock[name] for name in shared}
    assert lock.keys() <= gpu.keys(), f"missing from the GPU lock: {lock.keys() - gpu.keys()}"
    added = gpu.keys() - lock.keys()
    assert {"nvidia-cudnn-cu12", "nvidia-cublas-cu12"} <= added
    assert all(name.startswith("nvidia-") and name.endswith("-cu12") for name in added), added
    gpu_in = (REPO_ROOT / "requirements/gpu.in").read_text()
    assert f"tensorflow[and-cuda]=={lock['tensorflow']}" in gpu_in


def test_only_the_gpu_image_installs_the_cuda_wheels():
    assert "lock-gpu" not in re.search(
        r"^\$\(VENV\)/.installed:.*?\n\n", MAKEFILE, re.M | re.S
    ).group(0)
    assert "-c requirements/lock.txt" in MAKEFILE  # resolved against the lock, not beside it
    assert "COPY ${LOCK} /tmp/lock.txt" in DOCKERFILE
