"""Custom TFX components of the pipeline (one folder per component)."""

import core  # noqa: F401 - first: pins Keras 2 before TensorFlow is imported
