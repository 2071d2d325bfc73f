"""The TFMA EvalConfig that decides whether a trained model is blessed, and reading its verdict.

The Evaluator reads the raw `test` examples and calls the model's own
`serving_default` signature (which applies the Transform graph), so evaluation
never re-implements preprocessing.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from core import features
from core.config import EvaluationConfig
from pipeline import tfma_results

if TYPE_CHECKING:
    import tensorflow_model_analysis as tfma

ACCURACY = "binary_accuracy"
MULTI_CLASS_ACCURACY = "accuracy"  # more than two classes
ACCURACIES = (ACCURACY, MULTI_CLASS_ACCURACY)  # a model is evaluated with one of them
AUC_PR = "auc_pr"
DECISION_THRESHOLD = 0.5
# Plots for the run report: ROC and precision-recall curves come from the confusion
# matrices at these many thresholds; calibration from this many probability buckets.
ROC_THRESHOLDS = 200
CALIBRATION_BUCKETS = 10
CONFUSION_MATRIX_PLOT = "confusion_matrix_plot"
CALIBRATION_PLOT = "calibration_plot"
_CONFUSION_CELLS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def make_eval_config(config: EvaluationConfig, num_classes: int = 2) -> tfma.EvalConfig:
    """Metrics on the whole test split and per label; blessing on overall accuracy.

    Blessing needs accuracy >= `min_accuracy` (value threshold) and, once a
    blessed model of the pipeline exists, no more than `max_accuracy_drop` below
    it (change threshold; TFMA skips it when the Evaluator gets no baseline).
    Thresholds apply to the overall slice only: the per-label slices are there
    to show where a model fails, and a label slice's accuracy is its recall.
    """
    # Imported here: reading results (`models list`) must not pay for TensorFlow.
    import tensorflow_model_analysis as tfma

    overall = tfma.SlicingSpec()
    accuracy_threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": config.min_accuracy}),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            # TFMA compares with `>`; the epsilon makes a drop of exactly the limit pass.
            absolute={"value": -config.max_accuracy_drop - 1e-10},
        ),
    )
    if num_classes > 2:
        return _multi_class_eval_config(num_classes, overall, accuracy_threshold)
    at_threshold = f'{{"thresholds": [{DECISION_THRESHOLD}]}}'
    return _eval_config(
        "probability",
        overall,
        [
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(
                        class_name="BinaryAccuracy",
                        per_slice_thresholds=[
                            tfma.PerSliceMetricThreshold(
                                slicing_specs=[overall], threshold=accuracy_threshold
                            )
                        ],
                    ),
                    tfma.MetricConfig(class_name="AUC"),
                    tfma.MetricConfig(
                        class_name="AUCPrecisionRecall", config=f'{{"name": "{AUC_PR}"}}'
                    ),
                    tfma.MetricConfig(class_name="Precision", config=at_threshold),
                    tfma.MetricConfig(class_name="Recall", config=at_threshold),
                    tfma.MetricConfig(class_name="MeanLabel"),
                    tfma.MetricConfig(class_name="MeanPrediction"),
                    tfma.MetricConfig(class_name="Calibration"),
                    tfma.MetricConfig(
                        class_name="ConfusionMatrixAtThresholds", config=at_threshold
                    ),
                    tfma.MetricConfig(
                        class_name="ConfusionMatrixPlot",
                        config=json.dumps(
                            {"name": CONFUSION_MATRIX_PLOT, "num_thresholds": ROC_THRESHOLDS}
                        ),
                    ),
                    tfma.MetricConfig(
                        class_name="CalibrationPlot",
                        config=json.dumps(
                            {"name": CALIBRATION_PLOT, "num_buckets": CALIBRATION_BUCKETS}
                        ),
                    ),
                ]
            )
        ],
    )


def _multi_class_eval_config(
    num_classes: int, overall: tfma.SlicingSpec, accuracy_threshold: tfma.MetricThreshold
) -> tfma.EvalConfig:
    """N classes: accuracy (blessed on, as for two), per-class precision and recall, top-k
    accuracy from 4 classes up, and the N x N confusion matrix; per-label slices."""
    import tensorflow_model_analysis as tfma

    per_class = tfma.BinarizationOptions(class_ids={"values": list(range(num_classes))})
    metrics = [
        tfma.MetricConfig(class_name="ExampleCount"),
        tfma.MetricConfig(
            class_name="SparseCategoricalAccuracy",
            config=f'{{"name": "{MULTI_CLASS_ACCURACY}"}}',
            per_slice_thresholds=[
                tfma.PerSliceMetricThreshold(slicing_specs=[overall], threshold=accuracy_threshold)
            ],
        ),
        tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
    ]
    if num_classes > 3:
        metrics.append(
            tfma.MetricConfig(
                class_name="SparseTopKCategoricalAccuracy",
                config='{"name": "top_2_accuracy", "k": 2}',
            )
        )
    return _eval_config(
        "probabilities",
        overall,
        [
            tfma.MetricsSpec(metrics=metrics),
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="Precision"),
                    tfma.MetricConfig(class_name="Recall"),
                ],
                binarize=per_class,
            ),
        ],
    )


def _eval_config(
    prediction_key: str, overall: tfma.SlicingSpec, metrics_specs: list[tfma.MetricsSpec]
) -> tfma.EvalConfig:
    """Through the model's serving_default signature, on the whole split and per label."""
    import tensorflow_model_analysis as tfma

    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                # Only the signature is called, so the plain SavedModel is all TFMA needs.
                # Left unset, TFMA loads the model as Keras twice (to find its type, then to
                # use it), reviving every layer: about twice the Evaluator's time
                # (benchmarks/notebook_overhead.py).
                model_type=tfma.TF_GENERIC,
                label_key=features.LABEL_KEY,
                prediction_key=prediction_key,
            )
        ],
        slicing_specs=[overall, tfma.SlicingSpec(feature_keys=[features.LABEL_KEY])],
        metrics_specs=metrics_specs,
    )


def failed_thresholds(evaluation_uri: str) -> list[str]:
    """Why TFMA did not bless: one line per failed threshold, with the values compared.

    Empty when every threshold held. Reads the `validations` file the Evaluator
    wrote next to its metrics.
    """
    result = tfma_results.load_validation_result(evaluation_uri)
    reasons = []
    for per_slice in result.metric_validations_per_slice:
        for failure in per_slice.failures:
            reasons.append(_describe_failure(failure))
    return reasons


def _describe_failure(failure) -> str:
    key, threshold = failure.metric_key, failure.metric_threshold
    value = failure.metric_value.double_value.value
    if key.is_diff:
        limit = threshold.change_threshold.absolute.value
        return (
            f"{key.name} changed by {value:+.4f} against the latest blessed model "
            f"(change threshold: at least {limit:+.4f})"
        )
    bound = threshold.value_threshold.lower_bound.value
    return f"{key.name} = {value:.4f} is below the value threshold {bound:.4f}"


def metrics_by_slice(evaluation_uri: str, model: str = "candidate") -> dict[str, dict[str, float]]:
    """A model's metrics: "overall" and one entry per label slice ("label=1").

    `model` is "candidate" (the model just trained) or "baseline" (the model it
    was compared against, when the Evaluator had one).

    The confusion matrix at the decision threshold is flattened into
    true/false positives/negatives so every value is one number.
    """
    result: dict[str, dict[str, float]] = {}
    for per_slice in tfma_results.load_metrics(evaluation_uri):
        keys = per_slice.slice_key.single_slice_keys
        name = ",".join(f"{k.column}={_slice_value(k)}" for k in keys) or "overall"
        metrics = result.setdefault(name, {})
        for entry in per_slice.metric_keys_and_values:
            key, value = entry.key, entry.value
            # Without a baseline TFMA leaves the candidate's model name empty.
            if key.is_diff or (key.model_name or "candidate") != model:
                continue
            if value.HasField("double_value"):
                metrics[_metric_name(key)] = value.double_value.value
            elif value.HasField("confusion_matrix_at_thresholds"):
                matrix = value.confusion_matrix_at_thresholds.matrices[0]
                for cell in _CONFUSION_CELLS:
                    metrics[cell] = getattr(matrix, cell)
    return dict(sorted(result.items(), key=lambda item: (item[0] != "overall", item[0])))


def with_class_names(metrics: dict[str, float], class_names: list[str]) -> dict[str, float]:
    """Per-class metric names with the class's name: "precision/class_2" -> "precision/red"."""
    named = {}
    for name, value in metrics.items():
        found = re.fullmatch(r"(.+)/class_(\d+)", name)
        if found and int(found.group(2)) < len(class_names):
            name = f"{found.group(1)}/{class_names[int(found.group(2))]}"
        named[name] = value
    return named


def slice_label(slice_name: str, class_names: list[str]) -> str:
    """ "label=2" -> "red (label 2)"; other slices as they are."""
    found = re.fullmatch(r"label=(\d+)", slice_name)
    if found and int(found.group(1)) < len(class_names):
        return f"{class_names[int(found.group(1))]} (label {found.group(1)})"
    return slice_name


def _metric_name(key) -> str:
    """ "precision", or "precision/class_2" for a per-class (binarized) metric."""
    if key.HasField("sub_key") and key.sub_key.HasField("class_id"):
        return f"{key.name}/class_{key.sub_key.class_id.value}"
    return key.name


def _slice_value(key) -> str:
    kind = key.WhichOneof("kind")
    value = getattr(key, kind)
    return value.decode() if isinstance(value, bytes) else str(value)


def describe_thresholds(eval_config: dict) -> list[str]:
    """The blessing rules of an EvalConfig as TFX records it (the Evaluator's `eval_config`)."""
    rules = []
    for spec in eval_config.get("metrics_specs", []):
        for metric in spec.get("metrics", []):
            name = json.loads(metric.get("config") or "{}").get("name") or _snake_case(
                metric["class_name"]
            )
            thresholds = [metric.get("threshold")] + [
                t.get("threshold") for t in metric.get("per_slice_thresholds", [])
            ]
            for threshold in filter(None, thresholds):
                rules += _describe_threshold(name, threshold)
    return rules


def _snake_case(class_name: str) -> str:
    """TFMA's default metric name for a class name: BinaryAccuracy -> binary_accuracy."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def _describe_threshold(name: str, threshold: dict) -> list[str]:
    rules = []
    value = threshold.get("value_threshold", {})
    if "lower_bound" in value:
        rules.append(f"{name} >= {value['lower_bound']:g}")
    if "upper_bound" in value:
        rules.append(f"{name} <= {value['upper_bound']:g}")
    change = threshold.get("change_threshold", {})
    if "absolute" in change:
        rules.append(f"{name} change >= {change['absolute']:+.4g} against the latest blessed model")
    return rules
