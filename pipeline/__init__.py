"""Builds the image transfer-learning TFX pipeline and runs it locally."""

import core  # noqa: F401 - first: pins Keras 2 before TensorFlow is imported
