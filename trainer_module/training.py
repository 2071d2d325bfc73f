"""The two stages of the guide: train a new head on the frozen base, then fine-tune everything."""

from __future__ import annotations

import tf_keras as keras

from pipeline.config import TrainingConfig
from trainer_module.model import TransferModel


def compile_for_stage(model: keras.Model, learning_rate: float) -> None:
    """Compiles with the guide's loss and metric.

    Keras fixes which weights an optimizer updates at compile time, so this
    must run again after `base.trainable` changes.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        # The model outputs logits: threshold 0 is probability 0.5.
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)],
    )


def train_head(
    transfer: TransferModel,
    train_data,
    eval_data,
    config: TrainingConfig,
    callbacks: list[keras.callbacks.Callback],
) -> keras.callbacks.History:
    """Stage 1: only the new head learns; the pretrained base is frozen."""
    transfer.base.trainable = False
    compile_for_stage(transfer.model, config.head_learning_rate)
    return transfer.model.fit(
        train_data,
        validation_data=eval_data,
        epochs=config.head_epochs,
        callbacks=callbacks,
        verbose=2,
    )


def fine_tune(
    transfer: TransferModel,
    train_data,
    eval_data,
    config: TrainingConfig,
    callbacks: list[keras.callbacks.Callback],
) -> keras.callbacks.History:
    """Stage 2: unfreeze the whole base and continue with a very low learning rate.

    Epochs continue the head's numbering (`initial_epoch`), so TensorBoard shows
    both stages on one axis.
    """
    transfer.base.trainable = True
    compile_for_stage(transfer.model, config.fine_tune_learning_rate)
    return transfer.model.fit(
        train_data,
        validation_data=eval_data,
        initial_epoch=config.head_epochs,
        epochs=config.head_epochs + config.fine_tune_epochs,
        callbacks=callbacks,
        verbose=2,
    )
