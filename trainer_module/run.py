"""The Trainer's run_fn: both stages of the guide, then a SavedModel for serving."""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx.components.trainer.fn_args_utils import FnArgs

from core.config import WEIGHTS_NONE, TrainingConfig
from trainer_module import data, devices, model, serving, training
from trainer_module.progress import PROGRESS_LOGGER, EpochProgress

HISTORY_FILE = "history.json"
# Images whose statistics initialise a random base's BatchNorm layers.
_CALIBRATION_IMAGES = 64


def run_fn(fn_args: FnArgs) -> None:
    """Called by the TFX Trainer with the transformed splits and `custom_config`."""
    config = TrainingConfig(**fn_args.custom_config["training"])
    image_size = int(fn_args.custom_config["image_size"])
    keras.utils.set_random_seed(config.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    devices.check_required_gpus(devices.visible_gpu_names())
    plan = devices.plan_strategy(devices.visible_gpu_names(), config.batch_size)
    strategy = devices.make_strategy(plan)
    logging.getLogger(PROGRESS_LOGGER).info(
        "training with %s strategy on %s, global batch %d, precision %s, %s loop",
        plan.kind,
        ", ".join(plan.devices) or "CPU",
        plan.global_batch_size,
        devices.keras_policy_name(config.mixed_precision),
        config.training_loop,
    )

    def dataset(files: list[str], shuffle: bool) -> tf.data.Dataset:
        return data.make_dataset(
            files,
            tf_transform_output,
            image_size,
            plan.global_batch_size,
            shuffle_seed=config.seed if shuffle else None,
        )

    train_data = dataset(fn_args.train_files, shuffle=True)
    eval_data = dataset(fn_args.eval_files, shuffle=False)

    with strategy.scope():
        transfer = model.build_transfer_model(config, image_size)
    if config.weights == WEIGHTS_NONE:
        images, _ = next(iter(train_data.unbatch().batch(_CALIBRATION_IMAGES)))
        model.recalibrate_batchnorm(transfer.base, images)
    total_epochs = config.head_epochs + config.fine_tune_epochs
    tensorboard = keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)

    head = training.train_head(
        transfer,
        train_data,
        eval_data,
        config,
        [tensorboard, EpochProgress("head", total_epochs)],
    )
    histories = {"head": head}
    if config.fine_tune_epochs:
        fine = training.fine_tune(
            transfer,
            train_data,
            eval_data,
            config,
            [tensorboard, EpochProgress("fine-tune", total_epochs)],
        )
        histories["fine_tune"] = fine

    signatures = serving.make_serving_signatures(transfer.model, tf_transform_output, image_size)
    tf.saved_model.save(transfer.model, fn_args.serving_model_dir, signatures=signatures)
    # Epochs are numbered on the one axis both stages share (as in TensorBoard), from 1.
    history = {
        stage: {
            "epoch": [e + 1 for e in h.epoch],
            **{name: [float(v) for v in values] for name, values in h.history.items()},
        }
        for stage, h in histories.items()
    }
    # Next to the TensorBoard logs, and inside the model so it travels with every push.
    for path in (
        os.path.join(fn_args.model_run_dir, HISTORY_FILE),
        os.path.join(fn_args.serving_model_dir, "assets.extra", HISTORY_FILE),
    ):
        _write_json(path, history)


def _write_json(path: str, content: dict) -> None:
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as f:
        json.dump(content, f, indent=2)
