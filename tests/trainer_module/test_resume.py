"""A killed Trainer resumes: run_fn with a real FnArgs on a tiny transformed dataset, in-process.

The "kill" is an exception raised right after the backup of an epoch was
written: what is on disk is what a SIGKILL at that moment leaves behind (the
e2e test in tests/test_reruns.py kills a real pipeline run with SIGKILL).
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import io
import json
import logging
import os

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
import tf_keras as keras
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils
from tfx.components.trainer.fn_args_utils import FnArgs

from core import features
from core.config import PipelineConfig
from tests.trainer_module.transformed_records import write_transformed_records
from trainer_module import preprocessing, resume, run
from trainer_module.progress import PROGRESS_LOGGER

SIZE = 71  # Xception's smallest input
EXAMPLES = 16


@pytest.fixture(scope="module")
def transformed(tmp_path_factory) -> dict[str, str]:
    """A real Transform output (transform_fn, Beam) and GZIP transformed examples."""
    root = tmp_path_factory.mktemp("transformed")
    raw_spec = {
        features.IMAGE_KEY: tf.io.FixedLenFeature([], tf.string),
        features.LABEL_KEY: tf.io.FixedLenFeature([], tf.int64),
    }
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(raw_spec))
    rng = np.random.default_rng(0)
    labels = np.arange(EXAMPLES) % 2
    images = rng.integers(0, 128, (EXAMPLES, SIZE, SIZE, 3)) + 127 * labels[:, None, None, None]
    images = images.astype(np.uint8)
    raw = [
        {features.IMAGE_KEY: tf.io.encode_png(image).numpy(), features.LABEL_KEY: int(label)}
        for image, label in zip(images, labels, strict=True)
    ]
    fn = functools.partial(preprocessing.preprocessing_fn, custom_config={"image_size": SIZE})
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(root / "tmp")):
        transform_fn = (pipeline | beam.Create(raw), metadata) | tft_beam.AnalyzeDataset(fn)
        _ = transform_fn | tft_beam.WriteTransformFn(str(root / "transform_graph"))
    metadata_io.write_metadata(metadata, str(root / "transform_graph" / "metadata"))
    for split in ("train", "eval"):
        os.makedirs(root / split)
        write_transformed_records(str(root / split / "data.gz"), images, labels)
    return {
        "transform_output": str(root / "transform_graph"),
        "train": str(root / "train" / "*"),
        "eval": str(root / "eval" / "*"),
    }


def fn_args(transformed, pipeline_root, execution: int, **training) -> FnArgs:
    """FnArgs as the Trainer builds them: a new model and model_run dir per execution."""
    fields = {"head_epochs": 4, "fine_tune_epochs": 2, "batch_size": 8, **training}
    config = PipelineConfig.for_profile("sample", image_size=SIZE, **fields)
    trainer = os.path.join(pipeline_root, "Trainer")
    return FnArgs(
        train_files=[transformed["train"]],
        eval_files=[transformed["eval"]],
        transform_output=transformed["transform_output"],
        serving_model_dir=os.path.join(trainer, "model", str(execution), "Format-Serving"),
        model_run_dir=os.path.join(trainer, "model_run", str(execution)),
        custom_config={
            "image_size": SIZE,
            "training": dataclasses.asdict(config.training),
            "profile": "sample",
            run.RESUME_ROOT: os.path.join(trainer, resume.RESUME_DIR_NAME),
        },
    )


class KilledError(Exception):
    """Stands for SIGKILL: raised right after the backup of epoch `after` is on disk."""


@pytest.fixture
def kill_after(monkeypatch):
    """kill_after(n): the next run_fn dies right after backing up epoch n (1-based)."""

    def arm(epoch: int) -> None:
        save = resume.Backup.save

        def save_then_die(self, optimizer):
            save(self, optimizer)
            if self.state["epochs_done"] == epoch and not self.state["complete"]:
                monkeypatch.setattr(resume.Backup, "save", save)
                raise KilledError(epoch)

        monkeypatch.setattr(resume.Backup, "save", save_then_die)

    return arm


@pytest.fixture
def progress_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger(PROGRESS_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def history(args: FnArgs) -> dict:
    with open(os.path.join(args.model_run_dir, run.HISTORY_FILE)) as f:
        return json.load(f)


def resume_dirs(root) -> list[str]:
    return glob.glob(os.path.join(root, "Trainer", resume.RESUME_DIR_NAME, "*"))


def test_killed_in_fine_tune_resumes_in_fine_tune_with_its_low_learning_rate(
    transformed, tmp_path, kill_after, progress_lines, monkeypatch
):
    """The custom training loop; tests/test_reruns.py resumes Keras' fit loop in the head
    stage after a real SIGKILL of a real run."""
    kill_after(2)  # the first fine-tune epoch
    custom = {"head_epochs": 1, "training_loop": "custom"}
    with pytest.raises(KilledError):
        run.run_fn(fn_args(transformed, tmp_path, 1, **custom))
    (backup_dir,) = resume_dirs(tmp_path)
    saved = tf.train.load_checkpoint(tf.train.latest_checkpoint(backup_dir))
    saved_iterations = saved.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE")

    restored = {}
    restore = resume.Backup.restore

    def spy(self, optimizer=None, stage=None):
        if stage is None:
            return
        restore(self, optimizer, stage)
        restored.update(
            stage=stage.name,
            learning_rate=float(optimizer.learning_rate),
            iterations=int(optimizer.iterations),
            base_trainable=len(self._model.trainable_variables) > 2,  # more than the head
        )

    monkeypatch.setattr(resume.Backup, "restore", spy)
    progress_lines.truncate(0)
    progress_lines.seek(0)
    args = fn_args(transformed, tmp_path, 2, **custom)
    run.run_fn(args)

    assert "resuming at epoch 3/3 (fine-tune stage)" in progress_lines.getvalue()
    assert restored["stage"] == "fine_tune" and restored["base_trainable"]
    assert restored["learning_rate"] == pytest.approx(1e-5)
    assert restored["iterations"] == saved_iterations > 0  # Adam's state came back
    assert history(args)["fine_tune"]["epoch"] == [2, 3]
    assert history(args)["fine_tune"]["resumed_at_epoch"] == [3]


def test_the_backup_key_follows_inputs_config_and_code(transformed, tmp_path):
    key = run._backup_dir
    base = fn_args(transformed, tmp_path, 1)
    assert key(base) == key(fn_args(transformed, tmp_path, 2))  # another execution id
    # Another configuration trains something else: it never resumes the old backup.
    assert key(base) != key(fn_args(transformed, tmp_path, 1, seed=7))
    assert key(base) != key(fn_args(transformed, tmp_path, 1, head_learning_rate=5e-4))
    moved = fn_args(transformed, tmp_path, 1)
    moved.train_files = ["/elsewhere/*"]
    assert key(base) != key(moved)


def test_killed_after_the_last_epoch_exports_the_backed_up_model_without_training(
    transformed, tmp_path, monkeypatch, progress_lines
):
    first = fn_args(transformed, tmp_path, 1, head_epochs=1, fine_tune_epochs=0)

    def killed(*args, **kwargs):
        raise KilledError()

    monkeypatch.setattr(keras.Model, "save", killed)
    with pytest.raises(KilledError):  # killed while exporting: every epoch is backed up
        run.run_fn(first)
    monkeypatch.undo()
    trained = tf.train.load_checkpoint(tf.train.latest_checkpoint(resume_dirs(tmp_path)[0]))
    (logit_kernel,) = [  # the head's Dense(1) on 2048 pooled features
        key
        for key, shape in trained.get_variable_to_shape_map().items()
        if key.startswith("model/") and shape == [2048, 1]
    ]
    kernel = trained.get_tensor(logit_kernel)
    progress_lines.truncate(0)
    progress_lines.seek(0)

    args = fn_args(transformed, tmp_path, 2, head_epochs=1, fine_tune_epochs=0)
    run.run_fn(args)
    assert "holds all 1 epochs: exporting" in progress_lines.getvalue()
    assert " loss=" not in progress_lines.getvalue()  # nothing trained again
    # The exported SavedModel's own variables (it is saved without Keras traces).
    exported = tf.train.load_checkpoint(
        os.path.join(args.serving_model_dir, "variables", "variables")
    )
    assert any(
        np.array_equal(exported.get_tensor(key), kernel)
        for key, shape in exported.get_variable_to_shape_map().items()
        if shape == [2048, 1]
    )
