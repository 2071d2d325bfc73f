"""Serving signatures: raw images in, dog probability and class out, Transform's graph inside.

- `serving_default`: serialized tf.Examples holding the raw image bytes (what
  the pipeline's data and TFMA use).
- `serving_image_bytes`: a batch of raw JPEG/PNG/GIF/BMP bytes, for clients
  that do not build tf.Examples (REST with base64 strings).
- `transform_features`: serialized raw tf.Examples -> the transformed features
  the Trainer saw, for debugging skew.

The Transform graph (tft_layer) decodes and resizes in all of them, so serving
cannot drift from training. An undecodable image fails its request with
InvalidArgumentError (an error response in TF Serving); it cannot crash the
server process, and the next request is served normally.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from core import features
from trainer_module import pixels


def make_serving_signatures(
    model: keras.Model,
    tf_transform_output: tft.TFTransformOutput,
    image_size: int,
    class_names: tuple[str, ...] = features.CLASS_NAMES,
) -> dict[str, tf.types.experimental.ConcreteFunction]:
    """The three signatures above, for `tf.saved_model.save(model, dir, signatures=...)`.

    Args:
        model: the trained model (uint8 pixels -> one logit); Transform's layer is
            attached to it as `tft_layer` so that it is saved with the model.
        tf_transform_output: Transform's output: its graph and the raw feature spec.
        image_size: the side of the images the model takes.
        class_names: the label's class names, in label order (the dataset's ClassLabel).

    Returns:
        Signature name -> concrete function: "serving_default", "serving_image_bytes"
        (both return probability, class_id, class_name, class_probability; with more
        than two classes also probabilities) and "transform_features".
        `probability` is P(class 1) for two classes (what TFMA's binary metrics
        read), the predicted class's probability for more.
    """
    # Tracked as an attribute so its assets and variables are saved with the model.
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    image_spec = {features.IMAGE_KEY: raw_spec[features.IMAGE_KEY]}
    labelled_spec = {**image_spec, features.LABEL_KEY: raw_spec[features.LABEL_KEY]}

    # One trace of the model that both image signatures call, not one each (Xception's
    # graph traced and saved twice). No AutoGraph in any signature: they hold no Python
    # control flow on tensors, and converting the code they reach was 12 of the 12.6 s
    # their tracing took for the sample's Xception (0.5 s without; see autograph_rules).
    @tf.function(
        autograph=False,
        input_signature=[tf.TensorSpec([None, image_size, image_size, 3], tf.uint8, name="pixels")],
    )
    def classify(images: tf.Tensor) -> dict[str, tf.Tensor]:
        logits = model(images, training=False)
        names = tf.constant(class_names)
        if len(class_names) == 2:
            probability = tf.sigmoid(tf.reshape(logits, [-1]))
            class_id = tf.cast(probability >= 0.5, tf.int64)
            return {
                "probability": probability,
                "class_id": class_id,
                "class_name": tf.gather(names, class_id),
                "class_probability": tf.where(class_id == 1, probability, 1.0 - probability),
            }
        probabilities = tf.nn.softmax(logits)
        class_id = tf.argmax(probabilities, axis=-1)
        return {
            "probabilities": probabilities,
            "probability": tf.reduce_max(probabilities, axis=-1),
            "class_id": class_id,
            "class_name": tf.gather(names, class_id),
            "class_probability": tf.reduce_max(probabilities, axis=-1),
        }

    def predict(raw: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        transformed = model.tft_layer(raw)
        return classify(pixels.decode_pixels_batch(transformed[features.PIXELS_KEY], image_size))

    @tf.function(
        input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")],
        autograph=False,
    )
    def serve_tf_examples(serialized_examples: tf.Tensor) -> dict[str, tf.Tensor]:
        return predict(tf.io.parse_example(serialized_examples, image_spec))

    @tf.function(
        input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="images")],
        autograph=False,
    )
    def serve_image_bytes(images: tf.Tensor) -> dict[str, tf.Tensor]:
        # Shaped as parsing a tf.Example would shape it (the schema may say [1] per image).
        image_shape = image_spec[features.IMAGE_KEY].shape
        return predict({features.IMAGE_KEY: tf.reshape(images, [-1, *image_shape])})

    @tf.function(
        input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")],
        autograph=False,
    )
    def transform_features(serialized_examples: tf.Tensor) -> dict[str, tf.Tensor]:
        return model.tft_layer(tf.io.parse_example(serialized_examples, labelled_spec))

    return {
        "serving_default": serve_tf_examples.get_concrete_function(),
        "serving_image_bytes": serve_image_bytes.get_concrete_function(),
        "transform_features": transform_features.get_concrete_function(),
    }
