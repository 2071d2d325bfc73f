"""Keras 2 is pinned in one place, and every entry point gets it without setting it itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

# What starts a process of ours: the CLIs, the TFX executors (components, the Trainer's
# module file), the benchmarks.
ENTRY_PACKAGES = ("pipeline", "kubeflow", "components", "trainer_module", "benchmarks")


def _python_without_the_setting(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize("package", ENTRY_PACKAGES)
def test_importing_an_entry_package_pins_keras_2(package):
    result = _python_without_the_setting(
        f"import os, {package}; print(os.environ.get('TF_USE_LEGACY_KERAS'))"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "1"


def test_the_trainer_module_gets_tf_keras_from_tf_keras():
    """The Trainer's executor imports `trainer_module.run` by name: its tf.keras is Keras 2."""
    result = _python_without_the_setting(
        "import trainer_module.run, tensorflow as tf, tf_keras; "
        "print(tf.keras.Model is tf_keras.Model)"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_only_core_sets_the_keras_environment():
    setters = [
        str(path.relative_to(REPO_ROOT))
        for path in [*REPO_ROOT.glob("*/**/*.py"), REPO_ROOT / "Makefile"]
        if not path.is_relative_to(REPO_ROOT / ".venv")
        and not path.is_relative_to(REPO_ROOT / "build")
        and _sets_keras_environment(path.read_text(errors="replace"))
    ]
    assert setters == ["core/__init__.py"]


_SETTING = re.compile(
    r'environ(\.setdefault\(|\[)"TF_USE_LEGACY_KERAS"|^export TF_USE_LEGACY_KERAS', re.M
)


def _sets_keras_environment(text: str) -> bool:
    return bool(_SETTING.search(text))
