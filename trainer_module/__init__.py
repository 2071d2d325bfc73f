"""Code that runs inside Transform and Trainer: preprocessing, model, training, serving.

Keras 2 (`tf_keras`) is pinned before TensorFlow is imported; see `pipeline/__init__.py`.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
