"""Proofs of the guide's two stages, on tiny in-memory data with a random base (offline).

Each proof compares weights bit for bit (np.array_equal), not approximately: a
frozen weight must not move at all. Images are 71x71 (Xception's minimum) and
batches tiny so that the file runs in well under a minute on two CPU cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from core.config import PipelineConfig, TrainingConfig
from trainer_module import model as model_lib
from trainer_module import training
from trainer_module.stage_runner import StageRunner

SIZE = 71
LOOPS = ["fit", "custom"]


def tiny_config(**overrides) -> TrainingConfig:
    fields = {"head_epochs": 1, "fine_tune_epochs": 1, "batch_size": 4, **overrides}
    return PipelineConfig.for_profile("sample", image_size=SIZE, **fields).training


def tiny_data(n: int, batch_size: int, seed: int = 0) -> tf.data.Dataset:
    """Bright "dogs" and dark "cats": a head can learn them from a random base."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    images = rng.integers(0, 128, size=(n, SIZE, SIZE, 3)) + 127 * labels[:, None, None, None]
    return tf.data.Dataset.from_tensor_slices(
        (images.astype(np.uint8), labels.astype(np.float32))
    ).batch(batch_size)


def build(config: TrainingConfig) -> model_lib.TransferModel:
    keras.utils.set_random_seed(config.seed)
    return model_lib.build_transfer_model(config, SIZE)


def values(weights: list[tf.Variable]) -> list[np.ndarray]:
    return [w.numpy().copy() for w in weights]


def batchnorm_statistics(base: keras.Model) -> list[tf.Variable]:
    return [
        w
        for layer in base.layers
        if isinstance(layer, keras.layers.BatchNormalization)
        for w in (layer.moving_mean, layer.moving_variance)
    ]


def head_weights(transfer: model_lib.TransferModel) -> list[tf.Variable]:
    return transfer.model.get_layer("logit").weights


def base_kernels(base: keras.Model) -> list[tf.Variable]:
    return [w for w in base.weights if "kernel" in w.name]


# Deterministic training (no dropout, no augmentation, one batch per epoch, no shuffling)
# so that the two loops and the feature cache can be compared number for number.
DETERMINISTIC = {"dropout_rate": 0.0, "augment": False, "batch_size": 8, "head_epochs": 2}


@dataclass
class TwoStages:
    """Snapshots of one run of both stages, for the proofs below."""

    base_start: list[np.ndarray]
    head_start: list[np.ndarray]
    base_after_head: list[np.ndarray]
    head_after_head: list[np.ndarray]
    kernels_after_head: list[np.ndarray]
    kernels_after_fine_tune: list[np.ndarray]
    statistics_after_head: list[np.ndarray]
    statistics_after_fine_tune: list[np.ndarray]
    head_history: keras.callbacks.History
    fine_tune_history: keras.callbacks.History
    final_weights: list[np.ndarray]


@pytest.fixture(scope="module")
def initial_weights() -> list[np.ndarray]:
    return build(tiny_config(**DETERMINISTIC)).model.get_weights()


class Runs(dict):
    """loop -> TwoStages, each run on first use so that one loop's failure stays its own."""

    def __init__(self, initial_weights: list[np.ndarray]):
        super().__init__()
        self._initial_weights = initial_weights

    def __missing__(self, loop: str) -> TwoStages:
        self[loop] = run_two_stages(loop, self._initial_weights)
        return self[loop]


@pytest.fixture(scope="module")
def runs(initial_weights) -> Runs:
    """One run of both stages per training loop, from the same initial weights."""
    return Runs(initial_weights)


def run_two_stages(loop: str, initial_weights: list[np.ndarray]) -> TwoStages:
    """Head then fine-tuning on images (feature cache off)."""
    config = tiny_config(training_loop=loop, feature_cache=False, **DETERMINISTIC)
    transfer = build(config)
    transfer.model.set_weights(initial_weights)
    train, evaluation = tiny_data(8, 8), tiny_data(4, 4, seed=1)
    base_start, head_start = values(transfer.base.weights), values(head_weights(transfer))
    after_head = []

    class Runner(StageRunner):  # notes the weights between the stages
        def fit(self, *args, **kwargs):
            history = super().fit(*args, **kwargs)
            if not after_head:
                after_head.extend(
                    [
                        values(transfer.base.weights),
                        values(head_weights(transfer)),
                        values(base_kernels(transfer.base)),
                        values(batchnorm_statistics(transfer.base)),
                    ]
                )
            return history

    runner = Runner(config)
    training.train(transfer, train, evaluation, config, runner)
    return TwoStages(
        base_start,
        head_start,
        *after_head[:3],
        values(base_kernels(transfer.base)),
        after_head[3],
        values(batchnorm_statistics(transfer.base)),
        runner.histories[training.HEAD],
        runner.histories[training.FINE_TUNE],
        transfer.model.get_weights(),
    )


def identical(a: list[np.ndarray], b: list[np.ndarray]) -> list[bool]:
    assert len(a) == len(b) > 0
    return [np.array_equal(x, y) for x, y in zip(a, b, strict=True)]


@pytest.mark.parametrize("loop", LOOPS)
def test_head_stage_leaves_every_base_weight_bit_identical_and_trains_the_head(runs, loop):
    run = runs[loop]
    assert all(identical(run.base_start, run.base_after_head))
    assert not any(identical(run.head_start, run.head_after_head))


@pytest.mark.parametrize("loop", LOOPS)
def test_fine_tuning_trains_the_base_but_never_its_batchnorm_statistics(runs, loop):
    """Fails if the base is called without training=False (BatchNorm would update its
    moving statistics) or if `fine_tune` does not recompile (fit keeps the base frozen)."""
    run = runs[loop]
    kernels = identical(run.kernels_after_head, run.kernels_after_fine_tune)
    assert len(kernels) > 30 and not any(kernels)
    statistics = identical(run.statistics_after_head, run.statistics_after_fine_tune)
    assert len(statistics) == 2 * 40 and all(statistics)  # Xception has 40 BatchNorm layers


@pytest.mark.parametrize("loop", LOOPS)
def test_stages_continue_one_epoch_axis(runs, loop):
    assert runs[loop].head_history.epoch == [0, 1]
    assert runs[loop].fine_tune_history.epoch == [2]


def test_fit_and_custom_loop_give_the_same_training(runs):
    """Same data, seed and initial weights: the two loops do the same arithmetic, so
    histories and weights agree to float32 rounding. Stated tolerance: 1e-4 relative on
    every logged metric, 1e-4 absolute on every weight."""
    fit, custom = runs["fit"], runs["custom"]
    for fit_stage, custom_stage in (
        (fit.head_history, custom.head_history),
        (fit.fine_tune_history, custom.fine_tune_history),
    ):
        for name in ("loss", "binary_accuracy", "val_loss", "val_binary_accuracy"):
            np.testing.assert_allclose(
                fit_stage.history[name], custom_stage.history[name], rtol=1e-4, err_msg=name
            )
    for a, b in zip(fit.final_weights, custom.final_weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_head_on_cached_features_trains_like_the_head_on_images(runs, initial_weights):
    """The feature cache changes where the base runs, not what the head learns: the
    head's weights and metrics agree with training on images to float32 rounding
    (stated tolerance: 1e-5 absolute)."""
    config = tiny_config(feature_cache=True, **{**DETERMINISTIC, "fine_tune_epochs": 0})
    transfer = build(config)
    transfer.model.set_weights(initial_weights)
    train, evaluation = tiny_data(8, 8), tiny_data(4, 4, seed=1)
    runner = StageRunner(config)
    training.train(transfer, train, evaluation, config, runner)
    assert set(runner.histories) == {training.HEAD}  # no fine-tuning epochs: no second stage
    history = runner.histories[training.HEAD]
    on_images = runs["fit"]
    for name in ("loss", "val_loss", "val_binary_accuracy"):
        np.testing.assert_allclose(
            history.history[name], on_images.head_history.history[name], atol=1e-5
        )
    for a, b in zip(values(head_weights(transfer)), on_images.head_after_head, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_without_recompiling_fit_keeps_training_only_what_was_trainable_at_compile():
    """Why `fine_tune` recompiles: unfreezing alone does not reach an already compiled fit."""
    config = tiny_config(**DETERMINISTIC)
    transfer = build(config)
    train = tiny_data(8, 8)
    training.compile_for_stage(transfer.model, keras.optimizers.Adam(config.head_learning_rate))
    transfer.model.fit(train, epochs=1, verbose=0)
    transfer.base.trainable = True
    base_before = values(transfer.base.weights)

    transfer.model.fit(train, epochs=1, verbose=0)  # no compile after unfreezing

    assert all(identical(base_before, values(transfer.base.weights)))


def test_stage_logs_carry_training_seconds_for_throughput(runs):
    for loop in LOOPS:
        assert runs[loop].head_history.history["train_seconds"][0] > 0
