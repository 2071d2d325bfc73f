"""Custom TFX components of the pipeline (one folder per component)."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
