"""Serving signatures: raw JPEG tf.Examples in, dog probability out, Transform's graph inside."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from trainer_module import features


def make_serving_signatures(
    model: keras.Model, tf_transform_output: tft.TFTransformOutput, image_size: int
) -> dict[str, tf.types.experimental.ConcreteFunction]:
    """Returns {"serving_default": fn(examples) -> {probability, class_id, class_name}}.

    The Transform graph (tft_layer) does the decoding and resizing, so serving
    cannot drift from training.
    """
    # Tracked as an attribute so its assets and variables are saved with the model.
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    serving_spec = {features.RAW_IMAGE_KEY: raw_spec[features.RAW_IMAGE_KEY]}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_tf_examples(serialized_examples: tf.Tensor) -> dict[str, tf.Tensor]:
        raw = tf.io.parse_example(serialized_examples, serving_spec)
        transformed = model.tft_layer(raw)
        pixels = features.decode_pixels_batch(transformed[features.PIXELS_KEY], image_size)
        probability = tf.sigmoid(tf.reshape(model(pixels, training=False), [-1]))
        class_id = tf.cast(probability >= 0.5, tf.int64)
        return {
            "probability": probability,
            "class_id": class_id,
            "class_name": tf.gather(tf.constant(features.CLASS_NAMES), class_id),
        }

    return {"serving_default": serve_tf_examples.get_concrete_function()}
