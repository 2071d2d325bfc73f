"""Compiles, submits and schedules the pipeline on Kubeflow Pipelines v2."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
