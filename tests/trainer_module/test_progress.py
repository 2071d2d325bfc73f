"""The status line inside long passes: what it says, how often, in both training loops."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from trainer_module import custom_loop, progress, training


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def statuses(caplog):
    caplog.set_level(logging.INFO, logger=progress.PROGRESS_LOGGER)
    return lambda: [r.getMessage() for r in caplog.records if getattr(r, progress.TRANSIENT, 0)]


def test_status_shows_steps_images_per_second_and_eta_at_most_every_interval(statuses):
    clock = FakeClock()
    meter = progress.StepMeter("head epoch 1/5", 100, 32, interval=5.0, clock=clock)
    for _ in range(10):  # 10 steps in 4 s: too soon for a line
        clock.now += 0.4
        meter.step()
    assert statuses() == []
    clock.now += 1.0  # 11 steps, 352 images in 5 s
    meter.step()
    assert statuses() == ["head epoch 1/5: step 11/100 · 70.4 img/s · ETA 40s"]


def test_status_without_a_known_total_shows_the_elapsed_time():
    clock = FakeClock()
    meter = progress.StepMeter("base features (train)", None, 0, clock=clock)
    clock.now = 75.0
    meter.step(images=30)
    assert meter.status() == "base features (train): step 1 · 0.4 img/s · 1m15s elapsed"


def test_durations_read_short():
    assert [progress.format_duration(s) for s in (42, 187, 3725)] == ["42s", "3m07s", "1h02m"]


class BatchCounter(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batches, self.steps = 0, self.params.get("steps")

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


@pytest.mark.parametrize("loop", ["fit", "custom"])
def test_both_loops_report_every_training_batch_and_the_steps_of_an_epoch(loop):
    """What EpochProgress reads: `params["steps"]` for its ETA and one `on_train_batch_end`
    per training batch (not the evaluation's), from `fit` and from our custom loop alike."""
    data = tf.data.Dataset.from_tensor_slices(
        (np.zeros((12, 3), "float32"), np.ones(12, "float32"))
    ).batch(4)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    training.compile_for_stage(model, keras.optimizers.Adam(0.1))
    counter = BatchCounter()
    if loop == "fit":
        model.fit(data, validation_data=data, epochs=2, callbacks=[counter], verbose=0)
    else:
        custom_loop.fit_custom(model, data, data, initial_epoch=0, epochs=2, callbacks=[counter])
    assert counter.steps == 3
    assert counter.batches == 6  # training batches only: 3 per epoch, not the eval ones
