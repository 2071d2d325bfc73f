"""Transform's preprocessing_fn: decode the raw image bytes and resize them once, for all epochs."""

from typing import Any

import tensorflow as tf

from core import features
from trainer_module import pixels


def preprocessing_fn(inputs: dict[str, tf.Tensor], custom_config: dict[str, Any]) -> dict:
    """Raw {image bytes, label} -> {pixels: serialized uint8 image, label}.

    Doing the decode and resize here, not in the Trainer's input pipeline, means
    every epoch of both training stages reads ready-sized pixels; and because
    this graph is embedded in the serving signature (tft_layer), serving
    resizes exactly as training did.

    Args:
        inputs: raw features: the encoded image bytes and the int64 label, batched.
        custom_config: {"image_size": the side to resize to}, from the pipeline.

    Returns:
        {pixels: one serialized uint8 [size, size, 3] tensor per example, label: int64}.
    """
    image_size = int(custom_config["image_size"])
    encoded = tf.reshape(inputs[features.IMAGE_KEY], [-1])
    resized = tf.map_fn(
        lambda one: pixels.encode_pixels(pixels.decode_and_resize(one, image_size)),
        encoded,
        fn_output_signature=tf.string,
    )
    return {
        features.PIXELS_KEY: resized,
        features.LABEL_KEY: tf.reshape(inputs[features.LABEL_KEY], [-1]),
    }
