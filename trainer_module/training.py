"""The guide's recipe: train a new head on the frozen base, then fine-tune everything.

`train` is the recipe as the guide writes it; how a stage's epochs run (resume,
callbacks, `fit` or the custom loop) is `stage_runner`'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import tensorflow as tf
import tf_keras as keras

from core.config import TrainingConfig
from trainer_module import feature_cache, objective
from trainer_module.model import TransferModel
from trainer_module.progress import PROGRESS_LOGGER, StepMeter
from trainer_module.stage_runner import StageRunner

HEAD, FINE_TUNE = "head", "fine_tune"  # the stages' keys in history.json


def train(
    transfer: TransferModel,
    train_data: tf.data.Dataset,
    eval_data: tf.data.Dataset,
    config: TrainingConfig,
    runner: StageRunner,
) -> None:
    """The guide's recipe, in its order; `runner` runs each stage's epochs (resuming, progress).

    Args:
        transfer: `model.build_transfer_model`'s: the pretrained base, the new head, the model.
        train_data, eval_data: batches of (uint8 pixels, label), as `data.make_dataset` gives.
        config: the learning rates and epochs of both stages, XLA, the feature cache.
        runner: see `stage_runner.StageRunner`; its `histories` hold both stages' afterwards.
    """
    # Stage 1: freeze the pretrained base and train only the new head on top of it.
    transfer.base.trainable = False
    if runner.start_stage(HEAD, epochs=config.head_epochs):
        head, head_train, head_eval = _head_and_its_data(transfer, train_data, eval_data, config)
        head_adam = keras.optimizers.Adam(config.head_learning_rate)  # the guide's Adam(): 1e-3
        compile_for_stage(head, head_adam, config.jit_compile)
        runner.fit(head, head_train, head_eval)

    # Stage 2: unfreeze the whole base and fine-tune everything with a very low learning
    # rate. The base's BatchNorm layers stay in inference mode (the model calls the base
    # with training=False), so their ImageNet statistics are kept.
    transfer.base.trainable = True
    if runner.start_stage(FINE_TUNE, epochs=config.fine_tune_epochs):
        # Recompile: Keras fixes which weights an optimizer updates at compile time.
        fine_tune_adam = keras.optimizers.Adam(config.fine_tune_learning_rate)  # the guide's 1e-5
        compile_for_stage(transfer.model, fine_tune_adam, config.jit_compile)
        runner.fit(transfer.model, train_data, eval_data)


def compile_for_stage(
    model: keras.Model, optimizer: keras.optimizers.Optimizer, jit_compile: bool = False
) -> None:
    """Compiles with the guide's loss and metric, for the model's number of classes."""
    num_classes = objective.num_classes_of(model)
    model.compile(
        optimizer=optimizer,
        loss=objective.make_loss(num_classes),
        metrics=objective.make_metrics(num_classes),
        jit_compile=jit_compile,
    )


def _head_and_its_data(
    transfer: TransferModel,
    train_data: tf.data.Dataset,
    eval_data: tf.data.Dataset,
    config: TrainingConfig,
) -> tuple[keras.Model, tf.data.Dataset, tf.data.Dataset]:
    """What the head stage fits: the whole model on images, or, without augmentation,
    the head alone on base features computed once (`feature_cache`) instead of running
    the frozen base every epoch. The head shares the model's Dropout and Dense layers:
    training it trains the model."""
    if not feature_cache.applies(config.augment, config.feature_cache):
        return transfer.model, train_data, eval_data
    return (transfer.head, *_cache_base_features(transfer, train_data, eval_data, config.seed))


def _cache_base_features(
    transfer: TransferModel, train_data: tf.data.Dataset, eval_data: tf.data.Dataset, seed: int
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """The splits as (pooled base features, label) batches, the frozen base run once.

    Without augmentation every head epoch would feed the frozen base the same
    pixels; `feature_cache` computes its output once for all head epochs.
    """
    started = time.perf_counter()
    train_cache, eval_cache = (
        feature_cache.extract(transfer.features, data, _meter(f"base features ({split})", data))
        for split, data in (("train", train_data), ("eval", eval_data))
    )
    logging.getLogger(PROGRESS_LOGGER).info(
        "head trains on cached base features of %d + %d examples (extracted in %.1f s)",
        len(train_cache.labels),
        len(eval_cache.labels),
        time.perf_counter() - started,
    )
    return train_cache.dataset(shuffle_seed=seed), eval_cache.dataset(shuffle_seed=None)


def _meter(label: str, data: tf.data.Dataset) -> Callable[[int], None]:
    """A status line for one pass over `data`; returns what counts a batch of n images."""
    batches = int(data.cardinality())
    return StepMeter(label, batches if batches > 0 else None, images_per_step=0).step
