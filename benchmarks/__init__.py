"""Benchmarks of `make bench`: each prints ratios against a baseline measured in the same run."""

import os

import core  # noqa: F401 - first: pins Keras 2 before TensorFlow is imported

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
