"""Compiles, submits and schedules the pipeline on Kubeflow Pipelines v2."""

import core  # noqa: F401 - first: pins Keras 2 before TensorFlow is imported
