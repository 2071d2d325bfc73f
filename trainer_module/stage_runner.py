"""Runs the epochs of one stage of `training.train`: resume, callbacks, `fit` or the custom loop.

The recipe (`training.train`) says what trains, with which optimizer, for how many
epochs; this says how those epochs run, the same way for both stages:

- Both stages number their epochs on one axis, as `fit`'s `initial_epoch` and `epochs`
  do: the fine-tuning's ten epochs are epochs 20-29 after the head's 20, so TensorBoard
  and the history show them one after the other.
- A backup (`resume.Backup`) may already hold some or all of a stage's epochs (a killed
  or preempted Trainer): the stage starts after them, or not at all.
- Every stage gets the same services (`callbacks.stage_services`: best weights, early
  stopping), progress lines counted within the stage, and the caller's callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf
import tf_keras as keras

from core.config import TrainingConfig
from trainer_module import callbacks as services
from trainer_module import custom_loop
from trainer_module.progress import EpochProgress


@dataclass(frozen=True)
class Stage:
    """One stage's epochs on the shared axis: it trains epochs [initial_epoch, epochs)."""

    name: str  # the stage's key in history.json
    initial_epoch: int
    epochs: int


class StageRunner:
    """Fits one stage at a time, each placed after the one before on the shared epoch axis.

    Example:
        runner = StageRunner(config)
        if runner.start_stage("head", epochs=20):
            runner.fit(model, train_data, eval_data)  # epochs 0-19
        if runner.start_stage("fine_tune", epochs=10):
            runner.fit(model, train_data, eval_data)  # epochs 20-29
    """

    def __init__(
        self,
        config: TrainingConfig,
        backup=None,  # resume.Backup | None; resume imports this module's Stage
        callbacks: list[keras.callbacks.Callback] | None = None,
        batch_size: int = 1,
    ):
        """Args:
        config: the loop (`fit` or custom), XLA, best weights and early stopping.
        backup: what a killed run left (epochs to skip) and what saves each epoch;
            None trains every epoch and saves nothing.
        callbacks: the caller's, for every stage (TensorBoard).
        batch_size: the global batch, for the progress lines' images/s.
        """
        self._config = config
        self._backup = backup
        self._callbacks = list(callbacks or [])
        self._batch_size = batch_size
        self._axis_end = 0  # where the next stage starts
        self._planned = self._stage = Stage("", 0, 0)
        self.histories: dict[str, keras.callbacks.History] = {}

    def start_stage(self, name: str, epochs: int) -> bool:
        """Places stage `name` after the previous one; True if any of its epochs are left."""
        self._planned = Stage(name, self._axis_end, self._axis_end + epochs)
        self._axis_end = self._planned.epochs
        self._stage = self._backup.remaining(self._planned) if self._backup else self._planned
        return self._stage.initial_epoch < self._stage.epochs

    def fit(
        self, model: keras.Model, train_data: tf.data.Dataset, eval_data: tf.data.Dataset
    ) -> keras.callbacks.History:
        """The started stage's remaining epochs of `model` (compiled by the caller)."""
        stage, planned = self._stage, self._planned
        progress = EpochProgress(
            stage.name, planned.initial_epoch, planned.epochs - planned.initial_epoch,
            batch_size=self._batch_size,
        )  # fmt: skip
        # The services first: the backup sees the stage's final (best) weights.
        callbacks = [services.TrainTimer(), *services.stage_services(self._config)]
        callbacks += [*self._callbacks, progress]
        if self._backup:
            callbacks.append(self._backup.callback(stage))
        if self._config.training_loop == "custom":
            history = custom_loop.fit_custom(
                model,
                train_data,
                eval_data,
                initial_epoch=stage.initial_epoch,
                epochs=stage.epochs,
                callbacks=callbacks,
                jit_compile=self._config.jit_compile,
            )
        else:
            history = model.fit(
                train_data,
                validation_data=eval_data,
                initial_epoch=stage.initial_epoch,
                epochs=stage.epochs,
                callbacks=callbacks,
                verbose=0,
            )
        self.histories[stage.name] = history
        return history
