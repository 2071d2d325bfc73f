"""The Trainer's run_fn: the guide's recipe on one screen, its plumbing in the helpers below."""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx.utils import io_utils as tfx_io_utils

from core import features, shims
from core.config import RESUME_ROOT, WEIGHTS_NONE, TrainingConfig
from trainer_module import data, devices, model, resume, serving, training
from trainer_module.progress import PROGRESS_LOGGER
from trainer_module.stage_runner import StageRunner

HISTORY_FILE = "history.json"
CLASS_NAMES_FILE = "class_names.txt"
# Images whose statistics initialise a random base's BatchNorm layers.
_CALIBRATION_IMAGES = 64


def run_fn(fn_args: FnArgs) -> None:
    """Trains the guide's two stages and saves the model for serving; the TFX Trainer calls it.

    Args:
        fn_args: from the Trainer: the transformed `train_files` and `eval_files`,
            `transform_output`, `serving_model_dir`, `model_run_dir` (TensorBoard logs),
            `schema_path` (the curated schema: the class names) and `custom_config`
            {"training": `TrainingConfig` fields, "image_size": int, "num_classes": int}.

    Raises:
        ValueError: the schema's class names are not `num_classes`.
        WeightsUnavailableError: the configured pretrained weights are not on this machine.
        FileNotFoundError: no transformed examples match a split's file patterns.
        MissingGpuError: the task was given GPUs (TRAINER_REQUIRED_GPUS) TensorFlow cannot see.
    """
    config = TrainingConfig(**fn_args.custom_config["training"])
    image_size = int(fn_args.custom_config["image_size"])
    class_names = _class_names(
        fn_args.schema_path, int(fn_args.custom_config.get("num_classes", 2))
    )
    seed_everything(config)
    transform_output = tft.TFTransformOutput(fn_args.transform_output)

    devices.check_required_gpus(devices.visible_gpu_names())
    plan = devices.plan_strategy(devices.visible_gpu_names(), config.batch_size)
    strategy = devices.make_strategy(plan)
    _log_setup(plan, config)

    batch_size = plan.global_batch_size
    train_data = data.make_dataset(
        fn_args.train_files, transform_output, image_size, batch_size, shuffle_seed=config.seed
    )
    eval_data = data.make_dataset(fn_args.eval_files, transform_output, image_size, batch_size)

    with strategy.scope():
        transfer = model.build_transfer_model(config, image_size, len(class_names))
    if config.weights == WEIGHTS_NONE:
        _recalibrate_random_base(transfer, train_data)

    backup = resume.Backup(_backup_dir(fn_args), transfer.model)
    runner = _stage_runner(config, backup, fn_args.model_run_dir, batch_size)
    with shims.tf_keras_left_unconverted():  # tracing time: see core.shims
        training.train(transfer, train_data, eval_data, config, runner)
    backup.restore()  # only if no epoch was left to train

    signatures = serving.make_serving_signatures(
        transfer.model,
        transform_output,
        image_size,
        class_names,
        int(fn_args.custom_config.get("max_image_pixels", 25_000_000)),
    )
    # Weights and signatures only: the optimizer's slots would triple the size of every push.
    # Without traces: Keras would otherwise trace every layer's call again for a Keras-only
    # way of reloading without the layer classes (most of the saving time, and slower loads
    # for every reader). Serving, TFMA and `predict` call the signatures;
    # keras.models.load_model still rebuilds the model from its layers' configs.
    transfer.model.save(
        fn_args.serving_model_dir,
        save_format="tf",
        include_optimizer=False,
        signatures=signatures,
        save_traces=False,
    )
    _write_history(backup.history(), fn_args.model_run_dir, fn_args.serving_model_dir)
    _write_class_names(class_names, fn_args.serving_model_dir)
    backup.remove()  # the model is exported: nothing left to resume


def _class_names(schema_path: str | None, num_classes: int) -> tuple[str, ...]:
    """The label's class names the curated schema carries (the dataset's ClassLabel).

    Raises:
        ValueError: the schema's classes are not `num_classes` (the configured output size).
    """
    names: tuple[str, ...] = ()
    if schema_path:
        schema = tfx_io_utils.parse_pbtxt_file(schema_path, schema_pb2.Schema())
        names = features.class_names_of(schema)
    if not names:  # a label without ClassLabel names: the class indices name themselves
        names = features.CLASS_NAMES if num_classes == 2 else tuple(map(str, range(num_classes)))
    if len(names) != num_classes:
        raise ValueError(
            f"--num-classes {num_classes}, but the dataset's label has {len(names)} classes "
            f"({', '.join(names)}): pass --num-classes {len(names)}"
        )
    return names


def _write_class_names(class_names: tuple[str, ...], serving_model_dir: str) -> None:
    """assets.extra/class_names.txt, one name a line in label order: they travel with the model."""
    path = os.path.join(serving_model_dir, "assets.extra", CLASS_NAMES_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as f:
        f.write("".join(f"{name}\n" for name in class_names))


def seed_everything(config: TrainingConfig) -> None:
    """Seeds Python, NumPy and TensorFlow; `--deterministic` also makes TF ops deterministic.

    Seeds alone leave parallel reductions (and some GPU kernels) free to sum in any
    order, so two runs can still differ in the last bits and then diverge.
    """
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()


def _log_setup(plan: devices.StrategyPlan, config: TrainingConfig) -> None:
    logging.getLogger(PROGRESS_LOGGER).info(
        "training with %s strategy on %s, global batch %d (%g per replica), precision %s, %s loop",
        plan.kind,
        ", ".join(plan.devices) or "CPU",
        plan.global_batch_size,
        plan.replica_batch_size,
        devices.keras_policy_name(config.mixed_precision),
        config.training_loop,
    )


def _recalibrate_random_base(transfer: model.TransferModel, train_data: tf.data.Dataset) -> None:
    """Weights "none" only: see `model.recalibrate_batchnorm`; the first training images."""
    images, _ = next(iter(train_data.unbatch().batch(_CALIBRATION_IMAGES)))
    model.recalibrate_batchnorm(transfer.base, images, transfer.preprocess)


def _backup_dir(fn_args: FnArgs) -> str:
    """Where this training's backup lives: the same for every rerun of the same training.

    Under the Trainer's folder of the pipeline root (`<root>/Trainer/.resume` locally, the
    run's Trainer folder on Kubeflow, so a retried pod finds it), unless
    `custom_config["resume_root"]` names another place. Not part of the pipeline's
    custom_config by default: a path there would be in the Trainer's cache key, and a
    copied or moved output directory would then re-train. Keyed by the inputs and
    configuration, not by the execution id, which changes on every rerun.
    """
    identity = {k: v for k, v in fn_args.custom_config.items() if k != RESUME_ROOT}
    identity.update(
        train=fn_args.train_files, eval=fn_args.eval_files, transform=fn_args.transform_output
    )
    trainer_dir = os.path.dirname(os.path.dirname(fn_args.model_run_dir))  # .../Trainer
    root = fn_args.custom_config.get(RESUME_ROOT) or os.path.join(
        trainer_dir, resume.RESUME_DIR_NAME
    )
    return resume.backup_dir(root, identity)


def _stage_runner(
    config: TrainingConfig, backup: resume.Backup, log_dir: str, batch_size: int
) -> StageRunner:
    """Runs both stages with one TensorBoard log dir, continuing a killed run's logs."""
    backup.adopt_logs(log_dir)
    backup.announce(config.head_epochs + config.fine_tune_epochs)
    tensorboard = keras.callbacks.TensorBoard(log_dir=log_dir)
    return StageRunner(config, backup, [tensorboard], batch_size)


def _write_history(history: dict[str, dict], model_run_dir: str, serving_model_dir: str) -> None:
    """history.json: per stage, the epochs and every logged metric (`Backup.history`).

    Epochs are numbered on the one axis both stages share (as in TensorBoard), from 1;
    a resumed training lists the epochs of before the kill too, and `resumed_at_epoch`.
    Written next to the TensorBoard logs, and inside the model so it travels with every push.
    """
    for path in (
        os.path.join(model_run_dir, HISTORY_FILE),
        os.path.join(serving_model_dir, "assets.extra", HISTORY_FILE),
    ):
        tf.io.gfile.makedirs(os.path.dirname(path))
        with tf.io.gfile.GFile(path, "w") as f:
            json.dump(history, f, indent=2)
