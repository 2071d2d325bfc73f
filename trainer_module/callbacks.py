"""Per-stage training services: epoch timing, best-weights restore, early stopping."""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import tf_keras as keras

from core.config import TrainingConfig
from trainer_module.progress import PROGRESS_LOGGER

MONITOR = "val_loss"
TRAIN_SECONDS = "train_seconds"


class TrainTimer(keras.callbacks.Callback):
    """Adds `train_seconds` (the epoch's training pass, without evaluation) to the logs.

    It must come first among the callbacks so that the logs it extends reach the
    progress line, TensorBoard and the history; benchmarks derive images/s from it.
    """

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._started = time.perf_counter()
        self._seconds = None

    def on_test_begin(self, logs=None) -> None:
        if self._seconds is None:  # the validation pass that ends a training epoch
            self._seconds = time.perf_counter() - self._started

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if logs is not None:
            seconds = self._seconds or time.perf_counter() - self._started
            logs[TRAIN_SECONDS] = seconds


class RestoreBestWeights(keras.callbacks.Callback):
    """At the end of a stage, puts back the weights of its epoch with the lowest eval loss.

    Kept in memory (one copy of the weights, ~80 MB for Xception), not on disk:
    the stage's model is saved right after, and the per-epoch numbers are in the
    history and TensorBoard.
    """

    def on_train_begin(self, logs=None) -> None:
        self._best = math.inf
        self._best_weights: list[np.ndarray] | None = None
        self._best_epoch = self._last_epoch = -1

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self._last_epoch = epoch
        value = (logs or {}).get(MONITOR)
        if value is not None and value < self._best:
            self._best, self._best_epoch = value, epoch
            self._best_weights = self.model.get_weights()

    def on_train_end(self, logs=None) -> None:
        if self._best_weights is not None and self._best_epoch != self._last_epoch:
            self.model.set_weights(self._best_weights)
            logging.getLogger(PROGRESS_LOGGER).info(
                "restored the weights of epoch %d (%s=%.4f)",
                self._best_epoch + 1,
                MONITOR,
                self._best,
            )


def stage_services(config: TrainingConfig) -> list[keras.callbacks.Callback]:
    """The callbacks every stage gets from the configuration, after the caller's own."""
    services: list[keras.callbacks.Callback] = []
    if config.early_stopping_patience:
        services.append(
            keras.callbacks.EarlyStopping(monitor=MONITOR, patience=config.early_stopping_patience)
        )
    if config.restore_best_weights:
        services.append(RestoreBestWeights())
    return services
