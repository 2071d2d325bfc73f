"""The TFMA EvalConfig that decides whether a trained model is blessed."""

import tensorflow_model_analysis as tfma

from pipeline.config import EvaluationConfig
from trainer_module import features

ACCURACY = "binary_accuracy"


def make_eval_config(config: EvaluationConfig) -> tfma.EvalConfig:
    """Accuracy, AUC and example count on the model's own `serving_default`.

    Blessing needs accuracy >= `min_accuracy` and, once a blessed model exists,
    no more than `max_accuracy_drop` below it (TFMA skips the change threshold
    when there is no baseline).
    """
    accuracy_threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": config.min_accuracy}),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": -config.max_accuracy_drop - 1e-10},
        ),
    )
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                label_key=features.LABEL_KEY,
                prediction_key="probability",
            )
        ],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(class_name="AUC"),
                    tfma.MetricConfig(class_name="BinaryAccuracy", threshold=accuracy_threshold),
                ]
            )
        ],
    )
