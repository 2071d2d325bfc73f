"""What several test modules need alike, defined once: image bytes, parameter counts,
tiny datasets and copies of the project's code."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
# The packages a local pipeline run imports (the wheel adds kubeflow).
PACKAGES = ("core", "components", "trainer_module", "pipeline")


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    """`image` as a file of `image_format` ("JPEG", "PNG", ...) would hold it."""
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def solid_image(image_format: str, size: tuple[int, int] = (8, 8), mode: str = "RGB") -> bytes:
    """A one-colour image file (red in RGB, black otherwise)."""
    return encode(Image.new(mode, size, "red" if mode == "RGB" else 0), image_format)


def count_params(weights) -> int:
    """The number of scalars in `weights` (a model's or a layer's)."""
    return sum(int(np.prod(w.shape)) for w in weights)


def tiny_regression_batches():
    """Two batches of 4 (3 random features, label 1): enough for `fit` to run an epoch."""
    import tensorflow as tf

    features = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((features, np.ones(8, "float32"))).batch(4)


def copy_of_the_code(root: Path, *edited: str) -> Path:
    """A copy of PACKAGES under `root` with a comment appended to each `edited` file."""
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, root / package)
    for path in edited:
        with open(root / path, "a") as f:
            f.write("\n# an edit\n")
    return root
