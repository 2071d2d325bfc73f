"""The EvalConfig: every metric the issue asks for, per-label slices, and blessing rules."""

import json

import tensorflow_model_analysis as tfma
from tfx.utils import proto_utils

from core.config import PipelineConfig
from pipeline.evaluation import describe_thresholds, make_eval_config


def sample_eval_config() -> tfma.EvalConfig:
    return make_eval_config(PipelineConfig.for_profile("sample").evaluation)


def test_metrics_cover_accuracy_auc_precision_recall_calibration_count_confusion():
    (spec,) = sample_eval_config().metrics_specs
    classes = [m.class_name for m in spec.metrics]
    for expected in (
        "BinaryAccuracy",
        "AUC",
        "AUCPrecisionRecall",
        "Precision",
        "Recall",
        "Calibration",
        "ExampleCount",
        "ConfusionMatrixAtThresholds",
    ):
        assert expected in classes
    confusion = next(m for m in spec.metrics if m.class_name == "ConfusionMatrixAtThresholds")
    assert json.loads(confusion.config) == {"thresholds": [0.5]}


def test_thresholds_apply_to_the_overall_slice_only():
    """A label slice's accuracy is that class's recall: it must not veto the blessing."""
    config = sample_eval_config()
    thresholds = tfma.metrics.metric_thresholds_from_metrics_specs(
        config.metrics_specs, eval_config=config
    )
    assert {key.name for key in thresholds} == {"binary_accuracy"}
    for per_slice in thresholds.values():
        assert [slice_spec for slice_spec, _ in per_slice] == [
            tfma.SlicingSpec()
        ]  # not None: all slices


def test_profiles_set_the_value_threshold_and_the_change_threshold():
    full = PipelineConfig.for_profile("full").evaluation
    sample = PipelineConfig.for_profile("sample").evaluation
    assert full.min_accuracy == 0.95
    assert 0.5 < sample.min_accuracy < 0.93  # above chance, below the healthy demo's ~0.93
    as_recorded = json.loads(proto_utils.proto_to_json(make_eval_config(full)))
    assert describe_thresholds(as_recorded) == [
        "binary_accuracy >= 0.95",
        "binary_accuracy change >= -0.01 against the latest blessed model",
    ]


def test_without_resolver_the_baseline_comes_from_an_mlmd_lookup():
    """The Kubeflow shape: BaselineLookup's answer is the Evaluator's `baseline` parameter
    (construction only; replayed in tests/kubeflow/test_kfp_replay.py)."""
    from tfx.types import channel_utils

    from components.latest_blessed_model.component import (
        BaselineLookup,
        EvaluatorWithLookedUpBaseline,
    )
    from core.metadata.store import Target
    from pipeline.create import create_pipeline

    config = PipelineConfig.for_profile("sample")
    pipeline = create_pipeline(
        config, include_resolver=False, baseline_lookup=Target(host="mlmd.kubeflow")
    )
    nodes = {c.id: c for c in pipeline.components}
    assert "latest_blessed_model_resolver" not in nodes
    lookup, evaluator = nodes["BaselineLookup"], nodes["Evaluator"]
    assert isinstance(lookup, BaselineLookup)
    assert isinstance(evaluator, EvaluatorWithLookedUpBaseline)
    assert "baseline_model" not in evaluator.inputs
    placeholder = evaluator.exec_properties["baseline"]
    baseline = channel_utils.unwrap_simple_channel_placeholder(placeholder)
    assert (baseline.producer_component_id, baseline.output_key) == ("BaselineLookup", "baseline")
    assert lookup.exec_properties["mlmd_host"] == "mlmd.kubeflow"
    assert lookup.exec_properties["pipeline_name"] == config.runner.pipeline_name
    plain = create_pipeline(config, include_resolver=False)
    assert "baseline_model" not in {c.id: c for c in plain.components}["Evaluator"].inputs


def test_more_than_two_classes_get_multi_class_metrics_and_per_class_slices():
    config = make_eval_config(PipelineConfig.for_profile("sample").evaluation, num_classes=5)
    (spec,) = config.model_specs
    assert spec.prediction_key == "probabilities"
    overall, per_class = config.metrics_specs
    names = {m.class_name for m in overall.metrics}
    assert {
        "SparseCategoricalAccuracy",
        "MultiClassConfusionMatrixPlot",
        "SparseTopKCategoricalAccuracy",
    } <= names
    (accuracy,) = [m for m in overall.metrics if m.class_name == "SparseCategoricalAccuracy"]
    assert accuracy.per_slice_thresholds  # blessing stays on accuracy
    assert {m.class_name for m in per_class.metrics} == {"Precision", "Recall"}
    assert list(per_class.binarize.class_ids.values) == [0, 1, 2, 3, 4]
    assert [list(s.feature_keys) for s in config.slicing_specs] == [[], ["label"]]


def test_tfma_computes_the_multi_class_metrics_per_class_and_per_label():
    """TFMA itself (analyze_raw_data, no model) on 4-class probabilities and labels."""
    import numpy as np
    import pandas as pd

    config = make_eval_config(PipelineConfig.for_profile("sample").evaluation, num_classes=4)
    config.model_specs[0].ClearField("signature_name")  # predictions come from the frame
    for spec in config.metrics_specs:  # a change threshold needs a baseline model
        for metric in spec.metrics:
            for threshold in metric.per_slice_thresholds:
                threshold.threshold.ClearField("change_threshold")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 60)
    probabilities = rng.dirichlet(np.ones(4), 60)
    probabilities[np.arange(60), labels] += 1.0
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"label": labels, "probabilities": list(probabilities)})

    result = tfma.analyze_raw_data(frame, config)

    slices = dict(result.slicing_metrics)
    assert set(slices) == {(), *((("label", c),) for c in range(4))}
    overall = slices[()][""]
    assert overall[""]["accuracy"]["doubleValue"] == 1.0  # the true class always wins
    assert {"example_count", "top_2_accuracy"} <= set(overall[""])
    for class_id in range(4):
        assert set(overall[f"classId:{class_id}"]) == {"precision", "recall"}
