"""Progress lines for the run's terminal view: per epoch, and inside long passes.

The local runner shows records of `PROGRESS_LOGGER` on the terminal and sends
everything else (TF, Beam, absl) to the log file. Records marked `TRANSIENT`
are a status that the next one replaces: one line updated in place on a
terminal, periodic lines elsewhere. An epoch of the guide's full recipe takes
minutes on a CPU: without them the view would sit on "▶ Trainer" for that long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import tf_keras as keras

PROGRESS_LOGGER = "transfer.progress"
# Set (True) on a record's attributes: a status the next record replaces.
TRANSIENT = "transient"
# At most one status line per this many seconds.
STATUS_INTERVAL_SECONDS = 5.0


def format_duration(seconds: float) -> str:
    """1h02m, 3m07s or 42s: short enough for one status line."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class StepMeter:
    """Counts the steps of one pass and logs a throttled status: steps/total, images/s, ETA.

    `total_steps` None (unknown) shows the elapsed time instead of an ETA.
    """

    def __init__(
        self,
        label: str,
        total_steps: int | None,
        images_per_step: int,
        interval: float = STATUS_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label = label
        self.total_steps = total_steps
        self._images_per_step = images_per_step
        self._interval = interval
        self._clock = clock
        self._logger = logging.getLogger(PROGRESS_LOGGER)
        self.start()

    def start(self) -> None:
        self.steps = self.images = 0
        self._started = self._last_status = self._clock()

    def step(self, images: int | None = None) -> None:
        """One step done, of `images` images (default: `images_per_step`)."""
        self.steps += 1
        self.images += self._images_per_step if images is None else images
        now = self._clock()
        if now - self._last_status >= self._interval:
            self._last_status = now
            self._logger.info("%s", self.status(now), extra={TRANSIENT: True})

    def status(self, now: float | None = None) -> str:
        elapsed = (self._clock() if now is None else now) - self._started
        rate = self.images / elapsed if elapsed > 0 else 0.0
        if self.total_steps:
            steps = f"step {self.steps}/{self.total_steps}"
            left = max(self.total_steps - self.steps, 0)
            timing = f"ETA {format_duration(left * elapsed / self.steps)}" if self.steps else ""
        else:
            steps, timing = f"step {self.steps}", f"{format_duration(elapsed)} elapsed"
        return f"{self.label}: {steps} · {rate:.1f} img/s · {timing}".rstrip(" ·")


class EpochProgress(keras.callbacks.Callback):
    """One line per epoch with every metric Keras reports, and a status line inside it.

    Epochs are counted within the stage ("fine-tune epoch 1/10"), though Keras numbers
    them on the axis both stages share (fine-tuning starts after the head's epochs).
    """

    def __init__(self, stage: str, first_epoch: int, stage_epochs: int, batch_size: int = 1):
        super().__init__()
        self._stage = stage.replace("_", "-")  # "fine_tune" (a history key) reads "fine-tune"
        self._first_epoch = first_epoch
        self._stage_epochs = stage_epochs
        self._batch_size = batch_size
        self._logger = logging.getLogger(PROGRESS_LOGGER)
        self._meter: StepMeter | None = None
        self._supports_tf_logs = True  # batch logs are not read: no per-step conversion

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        steps = (self.params or {}).get("steps")  # unknown for file-based datasets: no ETA
        label = f"{self._stage} epoch {epoch - self._first_epoch + 1}/{self._stage_epochs}"
        self._meter = StepMeter(label, steps, self._batch_size)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self._meter is not None:
            self._meter.step()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        metrics = " ".join(
            f"{name}={float(value):.4f}" for name, value in sorted((logs or {}).items())
        )
        self._logger.info(
            "%s epoch %d/%d %s",
            self._stage,
            epoch - self._first_epoch + 1,
            self._stage_epochs,
            metrics,
        )
