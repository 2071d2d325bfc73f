"""What a run report shows, gathered from the run's artifacts into plain data.

Everything is read from what the components wrote (the Trainer's `history.json`,
the Evaluator's TFMA metrics, plots and validation, the raw test examples), by
artifact URI, so the same code serves a local run (URIs found through ML
Metadata) and the RunReport component on Kubeflow (URIs are its inputs).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from core import features
from core.config import SECTION_OF_FIELD, PipelineConfig

HISTORY_PATH = ("Format-Serving", "assets.extra", "history.json")
MOST_WRONG_COUNT = 12
THUMBNAIL_PIXELS = 160
_SCORING_BATCH = 32
# Where a run reads and writes, not what it does: shown elsewhere in the report.
_LOCATION_FIELDS = {"data_dir", "output_dir", "serving_dir", "verbose"}


@dataclass
class TestImage:
    """One test example as the model saw it, with what the model said."""

    name: str  # its file name in the dataset (or its TFDS id)
    label: int
    predicted: int  # the class the model chose
    confidence: float  # the model's probability of the class it chose
    jpeg: bytes  # a thumbnail
    # Two classes: the model's probability of the second (the one `probability` scores).
    positive_probability: float | None = None

    @property
    def wrong(self) -> bool:
        return self.predicted != self.label


@dataclass
class RunArtifacts:
    """Where a run's outputs are; None when the run did not get that far."""

    model_uri: str | None = None
    evaluation_uri: str | None = None
    examples_uri: str | None = None
    # Which model the Evaluator compared against (the one serving when the run started).
    baseline: str | None = None


@dataclass
class ReportContent:
    """Everything on the page, as data (figures are drawn from it in `figures`)."""

    run_id: str
    profile: str
    # The run summary (latest_run.json's fields); on Kubeflow, what the artifacts record.
    summary: dict[str, Any]
    # Flag -> [the profile's value, this run's value], for every field the run changed.
    config_changes: dict[str, list[Any]] = field(default_factory=dict)
    thresholds: list[str] = field(default_factory=list)
    history: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    metrics_by_slice: dict[str, dict[str, float]] = field(default_factory=dict)
    baseline: str | None = None
    baseline_metrics: dict[str, float] = field(default_factory=dict)
    # TFMA's confusion matrices over thresholds: ROC and precision-recall curves.
    curve: list[dict[str, float]] = field(default_factory=list)
    # TFMA's calibration buckets: (lower, upper, examples, positives, summed prediction).
    calibration: list[dict[str, float]] = field(default_factory=list)
    # The label's class names in label order (from the data: never assumed).
    class_names: list[str] = field(default_factory=list)
    # Every test image, scored through the model's serving signature as TFMA scores it.
    scored: list[TestImage] = field(default_factory=list)

    @property
    def most_wrong(self) -> list[TestImage]:
        """The misclassified test images, the most confidently wrong first."""
        wrong = sorted((i for i in self.scored if i.wrong), key=lambda i: -i.confidence)
        return wrong[:MOST_WRONG_COUNT]

    def confusion(self) -> list[list[int]]:
        """counts[true class][predicted class] over the scored test images."""
        size = len(self.class_names)
        counts = [[0] * size for _ in range(size)]
        for image in self.scored:
            if image.label < size and image.predicted < size:
                counts[image.label][image.predicted] += 1
        return counts


def gather(
    config: PipelineConfig, summary: dict[str, Any], artifacts: RunArtifacts
) -> ReportContent:
    """Reads every artifact the run produced; sections whose artifact is missing stay empty."""
    from google.protobuf import json_format

    from pipeline import evaluation

    eval_config = json_format.MessageToDict(
        evaluation.make_eval_config(config.evaluation, config.data.num_classes),
        preserving_proto_field_name=True,
    )
    content = ReportContent(
        run_id=summary.get("run_id", ""),
        profile=config.profile,
        summary=summary,
        config_changes=config_changes(config),
        thresholds=evaluation.describe_thresholds(eval_config),
        baseline=artifacts.baseline,
        class_names=list(summary.get("class_names") or []),
    )
    if artifacts.model_uri:
        content.history = read_history(artifacts.model_uri)
        content.class_names = content.class_names or read_class_names(artifacts.model_uri)
    if artifacts.evaluation_uri:
        uri = artifacts.evaluation_uri
        content.metrics_by_slice = evaluation.metrics_by_slice(uri)
        # Present when the Evaluator had a baseline (the latest blessed model) to compare with.
        content.baseline_metrics = evaluation.metrics_by_slice(uri, model="baseline").get(
            "overall", {}
        )
        if content.baseline_metrics and not content.baseline:
            content.baseline = "the latest blessed model"
        content.curve, content.calibration = read_plots(uri)
    if artifacts.model_uri and artifacts.examples_uri:
        content.scored = score_test_split(artifacts.model_uri, artifacts.examples_uri)
    return content


def config_changes(config: PipelineConfig) -> dict[str, list[Any]]:
    """`--flag` -> [profile value, run value] for each field this run set differently."""
    profile = PipelineConfig.for_profile(config.profile)
    changes = {}
    for name, section in SECTION_OF_FIELD.items():
        if section == "kubeflow" or name in _LOCATION_FIELDS:
            continue
        before = getattr(getattr(profile, section), name)
        after = getattr(getattr(config, section), name)
        if before != after:
            changes["--" + name.replace("_", "-")] = [before, after]
    return changes


def read_history(model_uri: str) -> dict[str, dict[str, list[float]]]:
    """The Trainer's per-stage history (epochs on the axis both stages share); {} if absent."""
    import tensorflow as tf

    path = os.path.join(model_uri, *HISTORY_PATH)
    if not tf.io.gfile.exists(path):
        return {}
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def read_class_names(model_uri: str) -> list[str]:
    """The class names the model carries (assets.extra/class_names.txt); [] if absent."""
    import tensorflow as tf

    path = os.path.join(model_uri, "Format-Serving", "assets.extra", "class_names.txt")
    if not tf.io.gfile.exists(path):
        return []
    with tf.io.gfile.GFile(path) as f:
        return [line.strip() for line in f if line.strip()]


def read_plots(evaluation_uri: str) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """The candidate's overall confusion matrices over thresholds and calibration buckets."""
    import tensorflow_model_analysis as tfma

    curve: list[dict[str, float]] = []
    calibration: list[dict[str, float]] = []
    for per_slice in tfma.load_plots(evaluation_uri):
        if per_slice.slice_key.single_slice_keys:
            continue  # overall only
        for entry in per_slice.plot_keys_and_values:
            if entry.key.model_name not in ("", "candidate"):
                continue
            value = entry.value
            if value.HasField("confusion_matrix_at_thresholds"):
                curve = [
                    {
                        "threshold": m.threshold,
                        "precision": m.precision,
                        "recall": m.recall,
                        "false_positive_rate": m.false_positive_rate,
                    }
                    for m in value.confusion_matrix_at_thresholds.matrices
                ]
            if value.HasField("calibration_histogram_buckets"):
                calibration = [
                    {
                        "lower": b.lower_threshold_inclusive,
                        "upper": b.upper_threshold_exclusive,
                        "examples": b.num_weighted_examples.value,
                        "positives": b.total_weighted_label.value,
                        "prediction_sum": b.total_weighted_refined_prediction.value,
                    }
                    for b in value.calibration_histogram_buckets.buckets
                    if b.num_weighted_examples.value > 0
                ]
    return curve, calibration


def score_test_split(model_uri: str, examples_uri: str) -> list[TestImage]:
    """Every raw test example scored by the model's `serving_default` signature.

    The same path TFMA takes (raw tf.Example in, Transform inside the model), so
    these predictions are the ones the metrics were computed from.
    """
    import tensorflow as tf

    files = sorted(tf.io.gfile.glob(os.path.join(examples_uri, "Split-test", "*")))
    serve = tf.saved_model.load(os.path.join(model_uri, "Format-Serving")).signatures[
        "serving_default"
    ]
    records = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
    images = []
    for start in range(0, len(records), _SCORING_BATCH):
        batch = records[start : start + _SCORING_BATCH]
        outputs = {k: v.numpy() for k, v in serve(examples=tf.constant(batch)).items()}
        two_classes = "probabilities" not in outputs
        for index, record in enumerate(batch):
            feature = tf.train.Example.FromString(record).features.feature
            names = feature[features.FILENAME_KEY].bytes_list.value
            ids = feature[features.ID_KEY].bytes_list.value
            images.append(
                TestImage(
                    name=(names or ids or [b""])[0].decode(),
                    label=int(feature[features.LABEL_KEY].int64_list.value[0]),
                    predicted=int(outputs["class_id"].reshape(-1)[index]),
                    confidence=float(outputs["class_probability"].reshape(-1)[index]),
                    jpeg=thumbnail(feature[features.IMAGE_KEY].bytes_list.value[0]),
                    positive_probability=(
                        float(outputs["probability"].reshape(-1)[index]) if two_classes else None
                    ),
                )
            )
    return images


def thumbnail(image_bytes: bytes) -> bytes:
    """A small JPEG of the image, so a grid of them keeps the page light."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(image_bytes)) as image:
        small = image.convert("RGB")
        small.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
        out = io.BytesIO()
        small.save(out, format="JPEG", quality=85)
    return out.getvalue()
