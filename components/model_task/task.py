"""A model's task: the name it is served under, its classes, its serving signatures.

A baseline is only comparable with a model of the same task. The latest blessed model
of the pipeline may be another task's: a run on a 3-class image folder after the 2-class
demo, in one output directory. TFMA would then compare a softmax over three classes with
one logit and fail deep in its combiners. So the Trainer records the task on its Model
artifact, the baseline is chosen among models of the same name, and the Evaluator drops
a baseline of other classes or signatures ("no baseline for this model yet"), judging on
the value threshold alone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from tfx import types

from core import artifact_properties as properties

CLASS_NAMES_FILE = "class_names.txt"  # in the SavedModel's assets.extra, one name a line


@dataclass(frozen=True)
class Task:
    model_name: str
    class_names: tuple[str, ...]
    signatures: tuple[str, ...]

    @classmethod
    def of(cls, model: types.Artifact) -> Task | None:
        """The task recorded on a Model artifact; None for a model trained before it was."""
        name = model.get_string_custom_property(properties.MODEL_NAME)
        if not name:
            return None
        return cls(
            name,
            tuple(json.loads(model.get_string_custom_property(properties.CLASS_NAMES) or "[]")),
            tuple(
                json.loads(model.get_string_custom_property(properties.SERVING_SIGNATURES) or "[]")
            ),
        )

    @classmethod
    def of_saved_model(cls, model_name: str, serving_model_dir: str) -> Task:
        """Read from the exported SavedModel: its class names file and signature keys."""
        import tensorflow as tf
        from tensorflow.core.protobuf import saved_model_pb2

        with tf.io.gfile.GFile(
            os.path.join(serving_model_dir, "assets.extra", CLASS_NAMES_FILE)
        ) as f:
            class_names = tuple(line.strip() for line in f if line.strip())
        saved_model = saved_model_pb2.SavedModel()
        with tf.io.gfile.GFile(os.path.join(serving_model_dir, "saved_model.pb"), "rb") as f:
            saved_model.ParseFromString(f.read())
        signatures = sorted(
            key
            for graph in saved_model.meta_graphs
            for key in graph.signature_def
            if not key.startswith("__")
        )
        return cls(model_name, class_names, tuple(signatures))

    def record_on(self, model: types.Artifact) -> None:
        model.set_string_custom_property(properties.MODEL_NAME, self.model_name)
        model.set_string_custom_property(properties.CLASS_NAMES, json.dumps(self.class_names))
        model.set_string_custom_property(properties.SERVING_SIGNATURES, json.dumps(self.signatures))


def why_not_a_baseline(current: Task | None, baseline: Task | None) -> str:
    """ "" when `baseline` may serve as `current`'s baseline, else why not (for the log and
    the summary)."""
    if current is None or baseline is None:
        return ""  # a model from before tasks were recorded: as before, compared
    if baseline.model_name != current.model_name:
        return f"it is model {baseline.model_name!r}, this is {current.model_name!r}"
    if baseline.class_names != current.class_names:
        return (
            f"it has the classes {', '.join(baseline.class_names)}; this model "
            f"{', '.join(current.class_names)}"
        )
    if baseline.signatures != current.signatures:
        return (
            f"it serves {', '.join(baseline.signatures)}; this model "
            f"{', '.join(current.signatures)}"
        )
    return ""
