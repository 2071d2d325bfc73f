"""The Dockerfile of the Kubeflow image, checked without building it (no Docker engine here).

What can be checked offline: the base image is the TFX release this project is
locked to, every version the Dockerfile pins is the locked one, TF_USE_LEGACY_KERAS
is set, every package the tasks import is copied in, and the sources parse as the
Python 3.10 of the TFX 1.16 image.
"""

from __future__ import annotations

import ast
import re

from tests.conftest import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()


def _lock() -> dict[str, str]:
    pins = re.findall(
        r"^([A-Za-z0-9_.\-]+)==(\S+)", (REPO_ROOT / "requirements/lock.txt").read_text(), re.M
    )
    return {_normalize(name): version for name, version in pins}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_base_image_is_the_tfx_release_the_makefile_installs():
    base = re.search(r"^FROM gcr\.io/tfx-oss-public/tfx:(\S+)$", DOCKERFILE, re.M).group(1)
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert f"tfx=={base}" in makefile
    assert f"ml-pipelines-sdk=={base}" in makefile


def test_every_pinned_version_agrees_with_the_lock():
    pins = re.findall(r"^\s+([A-Za-z0-9_.\-]+)==(\S+)", DOCKERFILE, re.M)
    assert pins, "the Dockerfile pins what it installs"
    lock = _lock()
    for name, version in pins:
        assert lock.get(_normalize(name)) == version, f"{name}=={version} vs lock"


def test_legacy_keras_is_on_in_the_image():
    assert re.search(r"^ENV TF_USE_LEGACY_KERAS=1$", DOCKERFILE, re.M)


def test_every_package_of_the_project_is_copied_in():
    copied = set(re.findall(r"^COPY (\S+?)/? ", DOCKERFILE, re.M))
    packages = {"components", "pipeline", "trainer_module", "kubeflow", "setup.py"}
    assert packages <= copied


def test_sources_parse_as_python_3_10_of_the_image():
    sources = [
        p
        for package in ("components", "pipeline", "trainer_module", "kubeflow")
        for p in (REPO_ROOT / package).rglob("*.py")
    ]
    for path in sources:
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, 10))
