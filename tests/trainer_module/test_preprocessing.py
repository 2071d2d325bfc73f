"""Transform's preprocessing_fn: any common image format in, compact fixed-size uint8 out."""


import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from core import features
from tests.helpers import encode
from trainer_module import pixels
from trainer_module.preprocessing import preprocessing_fn

SIZE = 80


def transform(encoded: list[bytes], labels: list[int]) -> dict:
    inputs = {
        features.IMAGE_KEY: tf.constant([[e] for e in encoded]),
        features.LABEL_KEY: tf.constant([[label] for label in labels], tf.int64),
    }
    return preprocessing_fn(inputs, {"image_size": SIZE})


@pytest.mark.parametrize(
    "mode,fmt", [("RGB", "JPEG"), ("RGB", "PNG"), ("L", "JPEG"), ("RGBA", "PNG")]
)
def test_formats_become_rgb_uint8_of_the_configured_size(mode, fmt):
    image = Image.new(
        mode, (123, 301), color=200 if mode == "L" else (200, 30, 40, 255)[: len(mode)]
    )
    outputs = transform([encode(image, fmt)], [1])
    images = pixels.decode_pixels_batch(outputs[features.PIXELS_KEY], SIZE)
    assert images.dtype == tf.uint8
    assert images.shape == (1, SIZE, SIZE, 3)
    assert outputs[features.LABEL_KEY].numpy().tolist() == [1]


def test_pixels_are_the_resized_image():
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, size=(40, 60, 3), dtype=np.uint8)
    outputs = transform([encode(Image.fromarray(array), "PNG")], [0])
    image = pixels.decode_pixels_batch(outputs[features.PIXELS_KEY], SIZE)[0].numpy()
    expected = tf.image.resize(array, [SIZE, SIZE]).numpy()
    assert np.abs(image.astype(float) - expected).max() <= 0.5 + 1e-4  # only rounding


def test_stored_pixels_are_compact():
    image = Image.new("RGB", (300, 200), (10, 200, 10))
    outputs = transform([encode(image, "JPEG")], [0])
    stored = len(outputs[features.PIXELS_KEY].numpy()[0])
    raw_uint8 = SIZE * SIZE * 3
    assert raw_uint8 <= stored < raw_uint8 + 64  # uint8 plus a tiny header, not float32 (4x)
