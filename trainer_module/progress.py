"""Per-epoch progress lines for the run's terminal view.

The local runner shows records of `PROGRESS_LOGGER` on the terminal and sends
everything else (TF, Beam, absl) to the log file.
"""

import logging

import tf_keras as keras

PROGRESS_LOGGER = "transfer.progress"


class EpochProgress(keras.callbacks.Callback):
    """Logs one line per epoch: stage, epoch, and every metric Keras reports."""

    def __init__(self, stage: str, total_epochs: int):
        super().__init__()
        self._stage = stage.replace("_", "-")  # "fine_tune" (a history key) reads "fine-tune"
        self._total_epochs = total_epochs
        self._logger = logging.getLogger(PROGRESS_LOGGER)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        metrics = " ".join(f"{name}={value:.4f}" for name, value in sorted((logs or {}).items()))
        self._logger.info("%s epoch %d/%d %s", self._stage, epoch + 1, self._total_epochs, metrics)
