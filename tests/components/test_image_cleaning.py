"""Every class of bad image found in real archives is converted to RGB or skipped."""

import io
import random

import pytest
import tensorflow as tf
from PIL import Image

from components.tfds_example_gen import image_cleaning
from pipeline import sample_data
from tests.helpers import encode

MAX_PIXELS = 1_000_000


PICTURE = Image.new("RGB", (120, 80), (200, 120, 40))
JPEG = encode(PICTURE, "JPEG")
PHOTO = sample_data.draw_image(0, random.Random(2))  # big enough to cut in its pixel data
PROGRESSIVE = encode(Image.open(io.BytesIO(PHOTO)), "JPEG", progressive=True)


@pytest.mark.parametrize(
    "encoded, reason",
    [
        (encode(PICTURE.convert("L"), "JPEG"), image_cleaning.GRAYSCALE),
        (encode(PICTURE.convert("1"), "PNG"), image_cleaning.GRAYSCALE),
        (encode(PICTURE.convert("CMYK"), "JPEG"), image_cleaning.CMYK),
        (encode(PICTURE.convert("RGBA"), "PNG"), image_cleaning.RGBA),
        (encode(PICTURE.convert("LA"), "PNG"), image_cleaning.RGBA),
        (encode(PICTURE.convert("P"), "PNG"), image_cleaning.PALETTE),
        (encode(PICTURE, "PNG"), image_cleaning.NOT_JPEG),
        (encode(PICTURE, "BMP"), image_cleaning.NOT_JPEG),
        (encode(PICTURE, "GIF"), image_cleaning.PALETTE),
        (encode(PICTURE, "WEBP"), image_cleaning.NOT_JPEG),  # TF cannot read WebP
    ],
)
def test_convertible_images_become_lossless_rgb_pngs_that_tensorflow_decodes(encoded, reason):
    cleaned = image_cleaning.clean_image(encoded, MAX_PIXELS)
    assert cleaned.reason == reason and not cleaned.skipped
    image = Image.open(io.BytesIO(cleaned.encoded))
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", PICTURE.size)
    pixels = tf.io.decode_image(cleaned.encoded, channels=0)
    assert pixels.shape == (80, 120, 3)


def test_transparent_pixels_become_white():
    transparent = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    cleaned = image_cleaning.clean_image(encode(transparent, "PNG"), MAX_PIXELS)
    assert Image.open(io.BytesIO(cleaned.encoded)).getpixel((5, 5)) == (255, 255, 255)


def test_a_clean_rgb_jpeg_passes_through_unchanged():
    assert image_cleaning.clean_image(JPEG, MAX_PIXELS) == image_cleaning.CleanedImage(
        JPEG, image_cleaning.OK
    )


@pytest.mark.parametrize(
    "encoded, reason",
    [
        (b"", image_cleaning.EMPTY),
        (PHOTO[: len(PHOTO) // 2], image_cleaning.TRUNCATED),
        # JPEGs are checked at 1/8 scale: every entropy-coded byte is still read.
        (PHOTO[:-20], image_cleaning.TRUNCATED),
        (PROGRESSIVE[: len(PROGRESSIVE) * 3 // 4], image_cleaning.TRUNCATED),
        (encode(PICTURE, "PNG")[:200], image_cleaning.TRUNCATED),
        (b"<html><body>404 Not Found</body></html>", image_cleaning.UNDECODABLE),
        (bytes(random.Random(0).randrange(256) for _ in range(2000)), image_cleaning.UNDECODABLE),
        (JPEG[:2] + b"\x00" * 100, image_cleaning.UNDECODABLE),
        (encode(Image.new("1", (1001, 1000)), "PNG"), image_cleaning.OVERSIZED),
    ],
)
def test_unusable_images_are_skipped_with_their_reason(encoded, reason):
    assert image_cleaning.clean_image(encoded, MAX_PIXELS) == image_cleaning.CleanedImage(
        None, reason
    )


def test_the_pixel_limit_is_inclusive_and_configurable():
    image = encode(Image.new("RGB", (100, 50)), "JPEG")
    assert not image_cleaning.clean_image(image, max_pixels=5000).skipped
    assert image_cleaning.clean_image(image, max_pixels=4999).reason == image_cleaning.OVERSIZED


@pytest.mark.parametrize(
    "defect, reason",
    [
        (sample_data.GRAYSCALE, image_cleaning.GRAYSCALE),
        (sample_data.PNG, image_cleaning.NOT_JPEG),
        (sample_data.CMYK, image_cleaning.CMYK),
        (sample_data.RGBA, image_cleaning.RGBA),
        (sample_data.EMPTY, image_cleaning.EMPTY),
        (sample_data.TRUNCATED, image_cleaning.TRUNCATED),
        (sample_data.HTML, image_cleaning.UNDECODABLE),
        (sample_data.OVERSIZED, image_cleaning.OVERSIZED),
    ],
)
def test_each_defect_planted_in_the_sample_is_recognised(defect, reason):
    encoded = sample_data.draw_defective_image(0, defect, random.Random(1))
    assert image_cleaning.clean_image(encoded, 25_000_000).reason == reason
