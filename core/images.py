"""The one image normalisation of the project: any encoded image -> RGB pixels.

ExampleGen runs it (eagerly) on every image that is not already an RGB JPEG,
and Transform's graph runs it on every image it decodes — in training and, as
the Transform graph is inside every serving signature, in serving. So an RGBA
PNG sent to the model server becomes exactly the pixels its cleaned training
example has: no train/serve skew from colour handling.

- JPEG: decoded as RGB (grayscale expanded, CMYK converted by libjpeg).
- PNG, BMP: grayscale expanded; an alpha channel (RGBA, gray+alpha, palette
  transparency) is composited on white, as a browser shows it.
- GIF: the first frame, RGB (TensorFlow does not expose GIF transparency).
"""

from __future__ import annotations

import tensorflow as tf

BACKGROUND = 255.0  # transparent pixels become white


def to_rgb(encoded: tf.Tensor) -> tf.Tensor:
    """Encoded JPEG/PNG/GIF/BMP bytes (a scalar string) -> uint8 [height, width, 3]."""
    return tf.cond(
        tf.io.is_jpeg(encoded),
        lambda: tf.io.decode_jpeg(encoded, channels=3),
        lambda: _composite_on_white(tf.io.decode_image(encoded, expand_animations=False)),
    )


def _composite_on_white(image: tf.Tensor) -> tf.Tensor:
    """[h, w, 1|2|3|4] uint8 -> [h, w, 3]: gray expanded, alpha composited on white."""
    channels = tf.shape(image)[-1]
    pixels = tf.cast(image, tf.float32)
    colour = tf.cond(
        channels < 3,
        lambda: tf.image.grayscale_to_rgb(pixels[..., :1]),
        lambda: pixels[..., :3],
    )
    has_alpha = tf.equal(channels % 2, 0)  # 2: gray + alpha, 4: RGBA
    alpha = tf.cond(
        has_alpha, lambda: pixels[..., -1:] / 255.0, lambda: tf.ones_like(pixels[..., :1])
    )
    rgb = colour * alpha + BACKGROUND * (1.0 - alpha)
    return tf.cast(tf.clip_by_value(tf.round(rgb), 0.0, 255.0), tf.uint8)
