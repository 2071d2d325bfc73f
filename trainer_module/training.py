"""The two stages of the guide: train a new head on the frozen base, then fine-tune everything."""

from __future__ import annotations

import logging
import time

import tensorflow as tf
import tf_keras as keras

from core.config import TrainingConfig
from trainer_module import callbacks as services
from trainer_module import custom_loop, feature_cache, objective
from trainer_module.model import TransferModel
from trainer_module.progress import PROGRESS_LOGGER


def compile_for_stage(model: keras.Model, learning_rate: float, jit_compile: bool = False) -> None:
    """Compiles with the guide's loss and metric and a fresh Adam.

    Keras fixes which weights an optimizer updates at compile time, so this
    must run again after `base.trainable` changes.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=objective.make_loss(),
        metrics=objective.make_metrics(),
        jit_compile=jit_compile,
    )


def train_head(
    transfer: TransferModel,
    train_data: tf.data.Dataset,
    eval_data: tf.data.Dataset,
    config: TrainingConfig,
    callbacks: list[keras.callbacks.Callback],
) -> keras.callbacks.History:
    """Stage 1: only the new head learns; the pretrained base is frozen.

    Without augmentation the head trains on features the frozen base computed
    once (`feature_cache`); the head's layers are the model's, so the full model
    is trained all the same.
    """
    transfer.base.trainable = False
    model = transfer.model
    if feature_cache.applies(config.augment, config.feature_cache):
        model = transfer.head
        started = time.perf_counter()
        train_cache = feature_cache.extract(transfer.features, train_data)
        eval_cache = feature_cache.extract(transfer.features, eval_data)
        logging.getLogger(PROGRESS_LOGGER).info(
            "head trains on cached base features of %d + %d examples (extracted in %.1f s)",
            len(train_cache.labels),
            len(eval_cache.labels),
            time.perf_counter() - started,
        )
        train_data = train_cache.dataset(shuffle_seed=config.seed)
        eval_data = eval_cache.dataset(shuffle_seed=None)
    compile_for_stage(model, config.head_learning_rate, config.jit_compile)
    return _run_stage(model, train_data, eval_data, 0, config.head_epochs, callbacks, config)


def fine_tune(
    transfer: TransferModel,
    train_data: tf.data.Dataset,
    eval_data: tf.data.Dataset,
    config: TrainingConfig,
    callbacks: list[keras.callbacks.Callback],
) -> keras.callbacks.History:
    """Stage 2: unfreeze the whole base and continue with a very low learning rate.

    Epochs continue the head's numbering (`initial_epoch`), so TensorBoard shows
    both stages on one axis.
    """
    transfer.base.trainable = True
    compile_for_stage(transfer.model, config.fine_tune_learning_rate, config.jit_compile)
    return _run_stage(
        transfer.model,
        train_data,
        eval_data,
        config.head_epochs,
        config.head_epochs + config.fine_tune_epochs,
        callbacks,
        config,
    )


def _run_stage(
    model: keras.Model,
    train_data: tf.data.Dataset,
    eval_data: tf.data.Dataset,
    initial_epoch: int,
    epochs: int,
    callbacks: list[keras.callbacks.Callback],
    config: TrainingConfig,
) -> keras.callbacks.History:
    """Epochs [initial_epoch, epochs) with `fit` or the custom loop, same callbacks either way."""
    stage_callbacks = [services.TrainTimer(), *callbacks, *services.stage_services(config)]
    if config.training_loop == "custom":
        return custom_loop.fit_custom(
            model,
            train_data,
            eval_data,
            initial_epoch=initial_epoch,
            epochs=epochs,
            callbacks=stage_callbacks,
            jit_compile=config.jit_compile,
        )
    return model.fit(
        train_data,
        validation_data=eval_data,
        initial_epoch=initial_epoch,
        epochs=epochs,
        callbacks=stage_callbacks,
        verbose=0,
    )
