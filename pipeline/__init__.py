"""Builds the image transfer-learning TFX pipeline and runs it locally.

Importing this package pins Keras 2 (`tf_keras`) before TensorFlow is first
imported: Transform's `tft_layer` is a tf_keras model, and mixing it with
Keras 3 breaks the serving signature.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
