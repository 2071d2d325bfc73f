"""Serving signatures: raw images in, dog probability and class out, Transform's graph inside.

- `serving_default`: serialized tf.Examples holding the raw image bytes (what
  the pipeline's data and TFMA use).
- `serving_image_bytes`: a batch of raw JPEG/PNG/GIF/BMP bytes, for clients
  that do not build tf.Examples (REST with base64 strings).
- `transform_features`: serialized raw tf.Examples -> the transformed features
  the Trainer saw, for debugging skew.

The Transform graph (tft_layer) decodes and resizes in all of them, so serving
cannot drift from training.

The two scoring signatures read each image's header before anything decodes it
(`core.image_guard`): an image that declares more pixels than `max_image_pixels`,
a truncated file, zero bytes or text is never decoded. Its row of the answer says why
in `error` and holds no score (class_id -1, probabilities -1); the other images of the
batch are scored as usual. A server operator gets one bad upload refused by itself,
not a batch of 32 failed with it, and no image that allocates gigabytes. (A file
whose header and end are whole but whose data is corrupt still fails its request
with InvalidArgumentError, as before: an error response, not a crash of the server.)
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from core import features, image_guard
from trainer_module import pixels

# What replaces a refused image before the Transform graph decodes the batch: the smallest
# valid PNG (1x1 gray). Its scores are then overwritten by the refusal.
_PLACEHOLDER_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55"
    "0000000a49444154789c636800000082008177cd72b60000000049454e44ae426082"
)


def make_serving_signatures(
    model: keras.Model,
    tf_transform_output: tft.TFTransformOutput,
    image_size: int,
    class_names: tuple[str, ...] = features.CLASS_NAMES,
    max_image_pixels: int = 25_000_000,
) -> dict[str, tf.types.experimental.ConcreteFunction]:
    """The three signatures above, for `tf.saved_model.save(model, dir, signatures=...)`.

    Args:
        model: the trained model (uint8 pixels -> one logit); Transform's layer is
            attached to it as `tft_layer` so that it is saved with the model.
        tf_transform_output: Transform's output: its graph and the raw feature spec.
        image_size: the side of the images the model takes.
        class_names: the label's class names, in label order (the dataset's ClassLabel).
        max_image_pixels: an image declaring more (width x height) is refused unread.

    Returns:
        Signature name -> concrete function: "serving_default", "serving_image_bytes"
        (both return probability, class_id, class_name, class_probability and error;
        with more than two classes also probabilities) and "transform_features".
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
    # control flow on tensors, and converting the code they reach was nearly all of their
    # tracing time for Xception (see core.shims.tf_keras_left_unconverted).
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
        images = raw[features.IMAGE_KEY]
        problems = image_guard.problems(images, max_image_pixels)
        refused = tf.not_equal(problems, "")
        safe = tf.reshape(
            tf.where(refused, _PLACEHOLDER_PNG, tf.reshape(images, [-1])), tf.shape(images)
        )
        transformed = model.tft_layer({features.IMAGE_KEY: safe})
        scores = classify(pixels.decode_pixels_batch(transformed[features.PIXELS_KEY], image_size))
        return {**_refusals_flagged(scores, refused), "error": problems}

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


def _refusals_flagged(scores: dict[str, tf.Tensor], refused: tf.Tensor) -> dict[str, tf.Tensor]:
    """The rows of refused images: no class (-1, ""), no probability (-1)."""
    flagged = {}
    for key, value in scores.items():
        mask = tf.reshape(refused, [-1] + [1] * (len(value.shape) - 1))
        if value.dtype == tf.string:
            replacement = tf.constant("")
        elif value.dtype.is_integer:
            replacement = tf.constant(image_guard.REFUSED_CLASS_ID, value.dtype)
        else:
            replacement = tf.constant(image_guard.REFUSED_SCORE, value.dtype)
        flagged[key] = tf.where(mask, replacement, value)
    return flagged
