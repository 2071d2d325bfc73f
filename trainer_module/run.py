"""The Trainer's run_fn: both stages of the guide, then a SavedModel for serving."""

from __future__ import annotations

import json
import os

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx.components.trainer.fn_args_utils import FnArgs

from pipeline.config import WEIGHTS_NONE, TrainingConfig
from trainer_module import data, model, serving, training
from trainer_module.progress import EpochProgress

# Images whose statistics initialise a random base's BatchNorm layers.
_CALIBRATION_IMAGES = 64


def run_fn(fn_args: FnArgs) -> None:
    """Called by the TFX Trainer with the transformed splits and `custom_config`."""
    config = TrainingConfig(**fn_args.custom_config["training"])
    image_size = int(fn_args.custom_config["image_size"])
    keras.utils.set_random_seed(config.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)

    def dataset(files: list[str], shuffle: bool) -> tf.data.Dataset:
        return data.make_dataset(
            files,
            tf_transform_output,
            image_size,
            config.batch_size,
            shuffle_seed=config.seed if shuffle else None,
        )

    train_data = dataset(fn_args.train_files, shuffle=True)
    eval_data = dataset(fn_args.eval_files, shuffle=False)

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
    histories = {"head": head.history}
    if config.fine_tune_epochs:
        fine = training.fine_tune(
            transfer,
            train_data,
            eval_data,
            config,
            [tensorboard, EpochProgress("fine-tune", total_epochs)],
        )
        histories["fine_tune"] = fine.history

    signatures = serving.make_serving_signatures(transfer.model, tf_transform_output, image_size)
    tf.saved_model.save(transfer.model, fn_args.serving_model_dir, signatures=signatures)
    _write_history(fn_args.model_run_dir, histories)


def _write_history(model_run_dir: str, histories: dict[str, dict[str, list[float]]]) -> None:
    """Per-stage metrics per epoch, for reports, next to the TensorBoard logs."""
    tf.io.gfile.makedirs(model_run_dir)
    with tf.io.gfile.GFile(os.path.join(model_run_dir, "history.json"), "w") as f:
        json.dump(
            {
                stage: {k: [float(v) for v in vs] for k, vs in h.items()}
                for stage, h in histories.items()
            },
            f,
            indent=2,
        )
