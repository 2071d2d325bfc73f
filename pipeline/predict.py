"""Scores image files with a pushed model through its `serving_image_bytes` signature."""

from __future__ import annotations

import os
from dataclasses import dataclass

import tensorflow as tf

from core import features

IMAGE_BYTES_SIGNATURE = "serving_image_bytes"


@dataclass(frozen=True)
class Prediction:
    """One file's predicted class and that class's probability, or why it was not scored."""

    path: str
    probability: float | None = None  # of `class_name`
    class_name: str | None = None
    error: str | None = None


def latest_model_dir(model_serving_dir: str) -> str:
    """The highest numbered version under `<serving_dir>/<model_name>/`."""
    versions = (
        [v for v in os.listdir(model_serving_dir) if v.isdigit()]
        if os.path.isdir(model_serving_dir)
        else []
    )
    if not versions:
        raise FileNotFoundError(
            f"no pushed model under {model_serving_dir}: run the pipeline until a model is "
            "blessed and pushed, or pass --model DIR"
        )
    return os.path.join(model_serving_dir, max(versions, key=int))


def make_example(image_bytes: bytes) -> bytes:
    """A serialized tf.Example as the pipeline's raw data has it: the encoded image."""
    example = tf.train.Example()
    example.features.feature[features.IMAGE_KEY].bytes_list.value.append(image_bytes)
    return example.SerializeToString()


def predict_files(model_dir: str, paths: list[str]) -> list[Prediction]:
    """One prediction per file; a file that cannot be read or decoded gets an error instead.

    Files go one request each, as independent clients would send them: an
    unreadable one fails alone.
    """
    signatures = tf.saved_model.load(model_dir).signatures
    if IMAGE_BYTES_SIGNATURE not in signatures:
        raise ValueError(
            f"{model_dir} has no {IMAGE_BYTES_SIGNATURE!r} signature (signatures: "
            f"{', '.join(signatures)}): it was trained by an older version; run the pipeline again"
        )
    serve = signatures[IMAGE_BYTES_SIGNATURE]
    predictions = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                outputs = serve(images=tf.constant([f.read()]))
        except OSError as error:
            predictions.append(Prediction(path, error=f"cannot read: {error.strerror}"))
            continue
        except tf.errors.InvalidArgumentError as error:
            predictions.append(Prediction(path, error=f"cannot decode: {_reason(error)}"))
            continue
        predictions.append(
            Prediction(
                path,
                probability=_class_probability(outputs),
                class_name=outputs["class_name"][0].numpy().decode(),
            )
        )
    return predictions


def _class_probability(outputs: dict[str, tf.Tensor]) -> float:
    """The predicted class's probability (models before N classes only give P(class 1))."""
    if "class_probability" in outputs:
        return float(outputs["class_probability"][0])
    probability = float(outputs["probability"][0])
    return probability if int(outputs["class_id"][0]) == 1 else 1.0 - probability


def _reason(error: tf.errors.OpError) -> str:
    """The op's own message, without TensorFlow's graph-location boilerplate."""
    noise = ("Graph execution error", "Detected at node", "<stack traces", "[[", "File ")
    lines = [line.strip() for line in error.message.splitlines()]
    return next((line for line in lines if line and not line.startswith(noise)), error.message)
