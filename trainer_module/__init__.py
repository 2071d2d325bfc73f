"""Code that runs inside Transform and Trainer: preprocessing, model, training, serving."""

import core  # noqa: F401 - first: pins Keras 2 before TensorFlow is imported
