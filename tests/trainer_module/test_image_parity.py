"""One image normalisation: a raw upload and its cleaned training example give the same pixels.

Serving runs Transform's graph on the raw bytes a client sends; training read
what ExampleGen's cleaning wrote. For every colour mode ExampleGen converts,
both paths must reach the same model input, hence the same probabilities.
"""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from components.tfds_example_gen import image_cleaning
from pipeline.sample_data import draw_image
from tests.helpers import encode
from trainer_module import pixels

SIZE = 96


PHOTO = Image.open(io.BytesIO(draw_image(1, random.Random(4))))


def half_transparent(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    alpha = np.full(rgba.size[::-1], 255, np.uint8)
    alpha[:, : rgba.size[0] // 2] = 90
    rgba.putalpha(Image.fromarray(alpha))
    return rgba


RAW_UPLOADS = {
    "rgba_png": encode(half_transparent(PHOTO), "PNG"),
    "gray_alpha_png": encode(half_transparent(PHOTO).convert("LA"), "PNG"),
    "grayscale_jpeg": encode(PHOTO.convert("L"), "JPEG", quality=90),
    "cmyk_jpeg": encode(PHOTO.convert("CMYK"), "JPEG", quality=90),
    "palette_png": encode(PHOTO.convert("P"), "PNG"),
    "rgb_png": encode(PHOTO, "PNG"),
    "bmp": encode(PHOTO, "BMP"),
    "gif": encode(PHOTO, "GIF"),
}


@pytest.mark.parametrize("name", sorted(RAW_UPLOADS))
def test_served_and_cleaned_images_give_the_same_pixels(name):
    """Equal pixels are the whole claim: any model then scores them alike."""
    raw = RAW_UPLOADS[name]
    cleaned = image_cleaning.clean_image(raw, 10_000_000)
    assert not cleaned.skipped and cleaned.reason != image_cleaning.OK
    served = pixels.decode_and_resize(tf.constant(raw), SIZE)  # what serving's Transform does
    trained = pixels.decode_and_resize(tf.constant(cleaned.encoded), SIZE)  # what training read
    np.testing.assert_array_equal(served.numpy(), trained.numpy())


def test_transparency_is_composited_on_white_not_dropped():
    clear = encode(Image.new("RGBA", (4, 4), (10, 20, 30, 0)), "PNG")
    assert pixels.decode_and_resize(tf.constant(clear), 4).numpy().min() == 255
