"""The wheel Beam workers and the image install holds every module, and each one imports.

The wheel is built from setup.py and installed into a fresh virtual environment
that sees the project environment's dependencies (the locked ones) but not its
editable install of this project, so every import below comes from the wheel.
The subprocess runs outside the repository, where the sources cannot leak in.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests import helpers
from tests.conftest import REPO_ROOT

PACKAGES = (*helpers.PACKAGES, "kubeflow")  # what the wheel ships


def _modules_in_repository() -> list[str]:
    """Every module, except the `__main__` ones (importing those runs the command line)."""
    modules = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if path.name == "__main__.py":
                continue
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(REPO_ROOT)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (built,) = out.glob("tfx_image_transfer-*.whl")
    return built


def test_the_wheel_holds_every_module_of_the_repository(wheel):
    with zipfile.ZipFile(wheel) as archive:
        files = {name for name in archive.namelist() if name.endswith(".py")}
    expected = {
        str(path.relative_to(REPO_ROOT))
        for package in PACKAGES
        for path in (REPO_ROOT / package).rglob("*.py")
    }
    assert expected - files == set()
    assert not [f for f in files if f.startswith(("tests/", "benchmarks/"))]


def test_every_module_imports_from_the_installed_wheel(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    # The locked dependencies, as a plain path: the project venv's own .pth files (its
    # editable install of this project among them) are not processed.
    (site_packages / "locked_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
         str(site_packages), str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    modules = _modules_in_repository()
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    module = importlib.import_module(name)\n"
        f"    assert module.__file__.startswith({str(site_packages)!r}), module.__file__\n"
        "print(len(sys.modules))\n"
    )
    result = subprocess.run(
        [str(python), "-c", script],
        cwd=tmp_path,
        env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"},  # the packages pin Keras 2
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
