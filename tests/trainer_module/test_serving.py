"""The pushed model's serving signatures, on the model of the session's one e2e run.

A SavedModel with the Transform layer inside can only come from a real
Transform + Trainer run, so these reuse `e2e_run` instead of training another.
"""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from components.serving_check.requests import png_declaring, raw_example
from core import image_guard
from pipeline.sample_data import draw_image

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def signatures(e2e_run):
    return tf.saved_model.load(e2e_run.summary["pushed_model_dir"]).signatures


def as_png(jpeg: bytes, mode: str) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_model_exports_the_three_signatures(signatures):
    assert set(signatures) >= {"serving_default", "serving_image_bytes", "transform_features"}


def test_image_bytes_and_tf_examples_give_the_same_answer(signatures):
    rng = random.Random(7)
    images = [draw_image(label, rng) for label in (0, 1, 1, 0)]
    from_bytes = signatures["serving_image_bytes"](images=tf.constant(images))
    from_examples = signatures["serving_default"](
        examples=tf.constant([raw_example(i) for i in images])
    )
    np.testing.assert_allclose(
        from_bytes["probability"].numpy(), from_examples["probability"].numpy(), atol=1e-6
    )
    assert from_bytes["class_name"].numpy().tolist() == from_examples["class_name"].numpy().tolist()
    assert from_bytes["class_id"].dtype == tf.int64


def test_image_bytes_accepts_jpeg_png_and_grayscale_png(signatures):
    jpeg = draw_image(1, random.Random(1))
    batch = [jpeg, as_png(jpeg, "RGB"), as_png(jpeg, "L")]
    probability = signatures["serving_image_bytes"](images=tf.constant(batch))["probability"]
    assert probability.shape == (3,)
    # PNG is lossless: the same decoded pixels, the same probability.
    np.testing.assert_allclose(probability[0], probability[1], atol=0.05)


def test_hostile_images_are_refused_one_by_one_and_the_good_one_is_scored(signatures):
    """A decompression bomb, a truncated file, zero bytes and text in one batch with a good
    image: each refused with its reason, never decoded; the good one scored as alone."""
    good = draw_image(0, random.Random(2))
    batch = [good, png_declaring(20_000, 20_000), good[: len(good) // 2], b"", b"<html>"]
    for name in ("serving_image_bytes", "serving_default"):
        inputs = batch if name == "serving_image_bytes" else [raw_example(i) for i in batch]
        key = "images" if name == "serving_image_bytes" else "examples"
        outputs = signatures[name](**{key: tf.constant(inputs)})
        errors = [e.decode() for e in outputs["error"].numpy()]
        assert errors == [
            "",
            "the image declares 20000x20000 pixels, above the limit of 25000000",
            "truncated JPEG file (it ends before its last section)",
            "empty (zero bytes)",
            image_guard.NOT_AN_IMAGE,
        ]
        assert outputs["class_id"].numpy().tolist()[1:] == [image_guard.REFUSED_CLASS_ID] * 4
        assert outputs["probability"].numpy().tolist()[1:] == [image_guard.REFUSED_SCORE] * 4
        alone = signatures["serving_image_bytes"](images=tf.constant([good]))
        np.testing.assert_allclose(outputs["probability"][0], alone["probability"][0], atol=1e-6)


def test_a_whole_but_corrupt_image_still_fails_only_its_request(signatures):
    """What the header checks cannot see: a whole JPEG that libjpeg refuses (here its frame
    declares 12-bit samples). Its request fails (an error response); the next is served."""
    serve = signatures["serving_image_bytes"]
    good = draw_image(0, random.Random(2))
    frame = good.index(b"\xff\xc0")
    corrupt = good[: frame + 4] + bytes([12]) + good[frame + 5 :]
    with pytest.raises(tf.errors.InvalidArgumentError):
        serve(images=tf.constant([corrupt]))
    outputs = serve(images=tf.constant([good]))
    assert 0.0 <= float(outputs["probability"][0]) <= 1.0


def test_transform_features_returns_what_the_trainer_read(signatures):
    example = tf.train.Example()
    example.features.feature["image"].bytes_list.value.append(draw_image(1, random.Random(4)))
    example.features.feature["label"].int64_list.value.append(1)
    transformed = signatures["transform_features"](
        examples=tf.constant([example.SerializeToString()])
    )
    assert set(transformed) == {"pixels", "label"}
    assert transformed["label"].numpy().tolist() == [1]
