"""The two stages of the guide: train a new head on the frozen base, then fine-tune everything."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf
import tf_keras as keras

from core.config import TrainingConfig
from trainer_module import callbacks as services
from trainer_module import custom_loop, feature_cache, objective
from trainer_module.model import TransferModel
from trainer_module.progress import PROGRESS_LOGGER, StepMeter


@dataclass(frozen=True)
class Stage:
    """One stage of the guide: what learns, with which Adam, over which epochs.

    Both stages number their epochs on one axis, as `fit`'s `initial_epoch` and
    `epochs` do: a stage trains epochs [initial_epoch, epochs), so TensorBoard and
    the history show the fine-tuning right after the head.
    """

    name: str  # the stage's key in history.json
    base_trainable: bool
    learning_rate: float
    initial_epoch: int
    epochs: int


def stages(config: TrainingConfig) -> tuple[Stage, Stage]:
    """The guide's head stage (base frozen) and fine-tune stage (everything learns)."""
    head = Stage("head", False, config.head_learning_rate, 0, config.head_epochs)
    fine = Stage(
        "fine_tune",
        True,
        config.fine_tune_learning_rate,
        head.epochs,
        head.epochs + config.fine_tune_epochs,
    )
    return head, fine


def compile_for_stage(model: keras.Model, learning_rate: float, jit_compile: bool = False) -> None:
    """Compiles with the guide's loss and metric (for the model's classes) and a fresh Adam.

    Keras fixes which weights an optimizer updates at compile time, so this
    must run again after `base.trainable` changes.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=objective.make_loss(objective.num_classes_of(model)),
        metrics=objective.make_metrics(objective.num_classes_of(model)),
        jit_compile=jit_compile,
    )


def train_head(
    transfer: TransferModel,
    stage: Stage,
    train_data: tf.data.Dataset,
    eval_data: tf.data.Dataset,
    config: TrainingConfig,
    callbacks: list[keras.callbacks.Callback],
) -> keras.callbacks.History:
    """Stage 1: only the new head learns; the pretrained base is frozen.

    Without augmentation the head trains on features the frozen base computed
    once (`feature_cache`) instead of running the base every epoch.

    Args:
        transfer: the model of `build_transfer_model`; only its head's weights change.
        stage: the head stage of `stages(config)`.
        train_data: batches of (uint8 pixels, float32 label), as `make_dataset` gives.
        eval_data: the same for the evaluation split; gives the `val_` metrics.
        config: how to train: loop, XLA, feature cache, best weights, early stopping.
        callbacks: the caller's own (TensorBoard, progress); the stage adds its services.

    Returns:
        The stage's History: loss, binary_accuracy, their `val_` twins and
        `train_seconds` per epoch, epochs numbered from `stage.initial_epoch`.
    """
    transfer.base.trainable = stage.base_trainable  # False: the base is frozen
    model = transfer.model
    if feature_cache.applies(config.augment, config.feature_cache):
        # The head shares the model's Dropout and Dense layers: training it trains the model.
        model = transfer.head
        train_data, eval_data = _cache_base_features(transfer, train_data, eval_data, config.seed)
    compile_for_stage(model, stage.learning_rate, config.jit_compile)
    return _run_stage(model, stage, train_data, eval_data, config, callbacks)


def fine_tune(
    transfer: TransferModel,
    stage: Stage,
    train_data: tf.data.Dataset,
    eval_data: tf.data.Dataset,
    config: TrainingConfig,
    callbacks: list[keras.callbacks.Callback],
) -> keras.callbacks.History:
    """Stage 2: unfreeze the whole base and continue with a very low learning rate.

    The base's BatchNorm layers stay in inference mode (the model calls the base
    with training=False), so their ImageNet statistics are kept.

    Args:
        transfer: the model after `train_head`; every weight but the BatchNorm
            statistics changes.
        stage: the fine-tune stage of `stages(config)`; its epochs continue the head's.
        train_data, eval_data, config, callbacks: as for `train_head`.

    Returns:
        The stage's History, as `train_head` returns it.
    """
    transfer.base.trainable = stage.base_trainable  # True: everything learns
    # Keras fixes which weights an optimizer updates at compile time: without this
    # recompile, fit would go on training the head only.
    compile_for_stage(transfer.model, stage.learning_rate, config.jit_compile)
    return _run_stage(transfer.model, stage, train_data, eval_data, config, callbacks)


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


def _run_stage(
    model: keras.Model,
    stage: Stage,
    train_data: tf.data.Dataset,
    eval_data: tf.data.Dataset,
    config: TrainingConfig,
    callbacks: list[keras.callbacks.Callback],
) -> keras.callbacks.History:
    """The stage's epochs with `fit` or the custom loop, same callbacks either way."""
    # The services first: the caller's callbacks (the backup) see the stage's final weights.
    stage_callbacks = [services.TrainTimer(), *services.stage_services(config), *callbacks]
    if config.training_loop == "custom":
        return custom_loop.fit_custom(
            model,
            train_data,
            eval_data,
            initial_epoch=stage.initial_epoch,
            epochs=stage.epochs,
            callbacks=stage_callbacks,
            jit_compile=config.jit_compile,
        )
    return model.fit(
        train_data,
        validation_data=eval_data,
        initial_epoch=stage.initial_epoch,
        epochs=stage.epochs,
        callbacks=stage_callbacks,
        verbose=0,
    )
