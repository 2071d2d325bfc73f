"""Scores image files with a pushed model through its `serving_image_bytes` signature."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf

IMAGE_BYTES_SIGNATURE = "serving_image_bytes"


@dataclass(frozen=True)
class Prediction:
    """One file's predicted class and that class's probability, or why it was not scored."""

    path: str
    probability: float | None = None  # of `class_name`
    class_name: str | None = None
    error: str | None = None


class ModelLoadError(ValueError):
    """A directory is not a usable SavedModel for predict; the message names it and why."""


def served_model_names(serving_dir: str) -> list[str]:
    """The models `serving_dir` holds: its folders with at least one numbered version."""
    if not os.path.isdir(serving_dir):
        return []
    return sorted(
        name
        for name in os.listdir(serving_dir)
        if os.path.isdir(os.path.join(serving_dir, name))
        and any(v.isdigit() for v in os.listdir(os.path.join(serving_dir, name)))
    )


def newest_complete_versions(model_serving_dir: str) -> tuple[list[str], list[str]]:
    """(complete version dirs, newest first; warnings about newer incomplete ones).

    A version is complete when it has its saved_model.pb and its variables
    index. Versions are renamed into place whole (core.serving_layout), but a
    directory can still be damaged afterwards, or copied in by hand.

    Raises:
        FileNotFoundError: no complete version at all.
    """
    numbers = (
        sorted((int(v) for v in os.listdir(model_serving_dir) if v.isdigit()), reverse=True)
        if os.path.isdir(model_serving_dir)
        else []
    )
    complete, warnings = [], []
    for number in numbers:
        path = os.path.join(model_serving_dir, str(number))
        missing = [
            name
            for name in ("saved_model.pb", os.path.join("variables", "variables.index"))
            if not os.path.exists(os.path.join(path, name))
        ]
        if missing:
            warnings.append(f"version {number} is incomplete ({', '.join(missing)} missing)")
        else:
            complete.append(path)
    if not complete:
        raise FileNotFoundError(
            f"no complete pushed model under {model_serving_dir}"
            + (f" ({'; '.join(warnings)})" if warnings else "")
            + ": run the pipeline until a model is blessed and pushed, or pass --model DIR"
        )
    return complete, warnings


def load_image_signature(model_dir: str) -> Callable[..., dict[str, tf.Tensor]]:
    """The model's `serving_image_bytes` signature.

    Raises:
        ModelLoadError: not a SavedModel, a damaged one, or one without that signature.
    """
    if not os.path.exists(os.path.join(model_dir, "saved_model.pb")):
        raise ModelLoadError(
            f"{model_dir} is not a SavedModel (no saved_model.pb): pass a version directory "
            "such as <serving dir>/<model name>/<version>"
        )
    try:
        signatures = tf.saved_model.load(model_dir).signatures
    except (OSError, ValueError, tf.errors.OpError) as error:
        reason = _reason(error) if isinstance(error, tf.errors.OpError) else str(error)
        raise ModelLoadError(f"cannot load the SavedModel in {model_dir}: {reason}") from error
    if IMAGE_BYTES_SIGNATURE not in signatures:
        raise ModelLoadError(
            f"{model_dir} has no {IMAGE_BYTES_SIGNATURE!r} signature (signatures: "
            f"{', '.join(signatures)}): it was trained by an older version; run the pipeline again"
        )
    return signatures[IMAGE_BYTES_SIGNATURE]


def load_newest_model(
    model_serving_dir: str,
) -> tuple[str, Callable[..., dict[str, tf.Tensor]], list[str]]:
    """(version dir, its image signature, warnings) of the newest version that loads.

    Newer versions that are incomplete or fail to load are skipped, each with a
    warning naming it, rather than failing every request.

    Raises:
        FileNotFoundError: no version loads; the message names each and why.
    """
    candidates, warnings = newest_complete_versions(model_serving_dir)
    for path in candidates:
        try:
            return path, load_image_signature(path), warnings
        except ModelLoadError as error:
            warnings.append(str(error))
    raise FileNotFoundError(
        f"no pushed model under {model_serving_dir} loads: {'; '.join(warnings)}"
    )


def predict_files(
    model: str | Callable[..., dict[str, tf.Tensor]], paths: list[str]
) -> list[Prediction]:
    """One prediction per file; a file that cannot be read or decoded gets an error instead.

    Files go one request each, as independent clients would send them: an
    unreadable one fails alone.

    Args:
        model: a SavedModel dir, or its already loaded image signature.
        paths: image files.

    Raises:
        ModelLoadError: `model` is a dir that is not a usable SavedModel.
    """
    serve = load_image_signature(model) if isinstance(model, str) else model
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
        refused = outputs["error"][0].numpy().decode() if "error" in outputs else ""
        if refused:  # the model read its header and would not decode it
            predictions.append(Prediction(path, error=f"refused by the model: {refused}"))
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
