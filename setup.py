"""Packages the pipeline so TFX/Beam workers and the Kubeflow image can import it.

Runtime dependencies are pinned in requirements/lock.txt (installed by `make
install`), not here: tfx 1.16.0 declares Python <3.11, so a resolver run by
pip from this file would refuse the stack on Python 3.11.
"""

from setuptools import find_packages, setup

setup(
    name="tfx-image-transfer",
    version="0.1.0",
    description="Xception transfer learning on cats_vs_dogs as a TFX pipeline.",
    python_requires=">=3.11,<3.12",
    # Every package of the project, so a new one cannot be forgotten (Beam workers and
    # the image install this; tests/kubeflow/test_wheel.py imports every module from it).
    packages=find_packages(exclude=["tests", "tests.*", "benchmarks", "benchmarks.*"]),
    entry_points={"console_scripts": ["tfx-transfer=pipeline.cli:main"]},
)
