"""Per-stage services: best-weights restore, early stopping, epoch timing, in both loops."""

from __future__ import annotations

import numpy as np
import tf_keras as keras

from core.config import PipelineConfig
from tests.helpers import tiny_regression_batches as tiny_data
from trainer_module import callbacks, custom_loop, training


def tiny_model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    training.compile_for_stage(model, keras.optimizers.Adam(0.1))
    return model


def test_restore_best_weights_puts_back_the_epoch_with_the_lowest_eval_loss():
    model = tiny_model()
    restore = callbacks.RestoreBestWeights()
    restore.set_model(model)
    restore.on_train_begin()
    snapshots = []
    for epoch, val_loss in enumerate([1.0, 0.5, 0.8]):
        model.set_weights([np.full((3, 1), epoch, "float32"), np.full((1,), epoch, "float32")])
        snapshots.append(model.get_weights())
        restore.on_epoch_end(epoch, {"val_loss": val_loss})
    restore.on_train_end()
    np.testing.assert_array_equal(model.get_weights()[0], snapshots[1][0])


def test_stage_services_follow_the_config():
    config = PipelineConfig.for_profile("sample", early_stopping_patience=2).training
    services = callbacks.stage_services(config)
    stopping = next(s for s in services if isinstance(s, keras.callbacks.EarlyStopping))
    assert stopping.patience == 2 and stopping.monitor == "val_loss"
    assert any(isinstance(s, callbacks.RestoreBestWeights) for s in services)
    quiet = PipelineConfig.for_profile("sample", restore_best_weights=False).training
    assert callbacks.stage_services(quiet) == []


class StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


def test_custom_loop_honours_callbacks_like_fit():
    data = tiny_data()
    model = tiny_model()
    history = custom_loop.fit_custom(
        model,
        data,
        data,
        initial_epoch=3,
        epochs=10,
        callbacks=[callbacks.TrainTimer(), StopAfterFirstEpoch()],
    )
    assert history.epoch == [3]
    assert set(history.history) == {
        "loss",
        "binary_accuracy",
        "val_loss",
        "val_binary_accuracy",
        "train_seconds",
    }


def test_custom_loop_writes_tensorboard_logs_for_train_and_eval(tmp_path):
    data = tiny_data()
    custom_loop.fit_custom(
        tiny_model(),
        data,
        data,
        initial_epoch=2,
        epochs=4,
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(tmp_path))],
    )
    for split in ("train", "validation"):
        assert list((tmp_path / split).glob("events.out.tfevents.*")), split
