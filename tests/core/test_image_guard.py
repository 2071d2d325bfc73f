"""The header reads that keep the serving signatures from decoding hostile images."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from components.serving_check.requests import png_declaring
from core import image_guard
from tests.helpers import solid_image as encoded

LIMIT = 25_000_000


def problems(*images: bytes, limit: int = LIMIT) -> list[str]:
    return [p.decode() for p in image_guard.problems(tf.constant(list(images)), limit).numpy()]


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "GIF", "BMP"])
def test_a_whole_image_of_each_format_may_be_decoded(image_format):
    assert problems(encoded(image_format)) == [""]


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "GIF", "BMP"])
def test_the_declared_size_is_read_from_each_formats_header(image_format):
    image = encoded(image_format, size=(300, 200))
    (found,) = problems(image, limit=300 * 200 - 1)
    assert found == "the image declares 300x200 pixels, above the limit of 59999"


def test_progressive_and_exif_jpegs_are_read_past_their_leading_segments():
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "x" * 3000  # a long APP1 segment before the frame header
    Image.new("RGB", (640, 480), "blue").save(buffer, "JPEG", progressive=True, exif=exif)
    assert problems(buffer.getvalue(), limit=640 * 480 - 1) == [
        "the image declares 640x480 pixels, above the limit of 307199"
    ]


def test_hostile_inputs_each_get_a_reason_and_none_fails_the_batch():
    jpeg, png = encoded("JPEG"), encoded("PNG")
    found = problems(
        png_declaring(20_000, 20_000),
        jpeg[: len(jpeg) // 2],
        png[:-20],
        b"",
        b"<html><body>404 Not Found</body></html>",
        b"\xff\xd8\xff" + b"\x00" * 10,
        jpeg,
    )
    assert found == [
        "the image declares 20000x20000 pixels, above the limit of 25000000",
        "truncated JPEG file (it ends before its last section)",
        "truncated PNG file (it ends before its last section)",
        "empty (zero bytes)",
        image_guard.NOT_AN_IMAGE,
        "truncated JPEG file (it ends before its last section)",
        "",
    ]


def test_a_jpeg_with_bytes_after_its_end_marker_is_whole():
    assert problems(encoded("JPEG") + b"\0" * 16) == [""]


def test_tensorflows_own_header_reader_would_fail_the_batch():
    """Why `tf.io.extract_jpeg_shape` is not used: it raises on a malformed header (pins the
    TensorFlow behaviour this module exists for)."""
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.extract_jpeg_shape(encoded("JPEG")[:100])


def test_it_runs_inside_a_traced_signature():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def guard(images):
        return image_guard.problems(images, LIMIT)

    result = guard(tf.constant([encoded("PNG"), b"x"])).numpy()
    assert result.tolist() == [b"", image_guard.NOT_AN_IMAGE.encode()]
    assert np.array_equal(result, guard(tf.constant([encoded("PNG"), b"x"])).numpy())


def test_the_answer_has_one_row_per_image_even_when_traced():
    """TF Serving's REST row format needs each output batched along the first dimension."""
    spec = tf.TensorSpec([None], tf.string)
    traced = tf.function(lambda images: image_guard.problems(images, LIMIT), [spec])
    assert traced.get_concrete_function().structured_outputs.shape.as_list() == [None]
