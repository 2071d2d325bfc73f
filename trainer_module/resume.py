"""Resume a killed or preempted Trainer at the epoch after the last one it finished.

Every epoch's end (and every stage's end) writes one checkpoint: the model's
weights, the stage's optimizer and a small JSON state (stage, epochs done,
the history so far, the TensorBoard log dir). It lives under
`<resume root>/<key>/`, where the key hashes what makes a training the same
(its input artifacts, its configuration and the trainer code), not the
execution id: a rerun of the same Trainer, or a retried Kubeflow pod on
another node, finds it; a changed configuration or code starts afresh. The
backup is removed once the model is exported.

Why not `tf_keras.callbacks.BackupAndRestore` (read in tf_keras 2.16,
`src/callbacks.py` and `src/distribute/worker_training_state.py`):
- It skips the done epochs inside `Model.fit` (`_maybe_load_initial_counters_from_ckpt`),
  so the custom training loop (`--training-loop custom`) would start from epoch 0.
- It knows one `fit`. The recipe has two, of two models (with the feature cache the
  head stage fits the head alone) and two optimizers; with one callback per stage, a kill
  between the stages finds the head's backup deleted (`delete_checkpoint`) or, kept,
  nothing that says the head stage was complete.
- It saves the model, the optimizer and the epoch counter, not the metrics of the
  epochs before the kill or the TensorBoard log dir: history.json and TensorBoard
  would start again at the resumed epoch.
- Its directory is given, not derived: finding the same backup from a retried pod on
  another node needs the key below anyway.
What it does well (a checkpoint written whole, optimizer state restored) this does the
same way, with `tf.train.Checkpoint` and `CheckpointManager`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import tensorflow as tf
import tf_keras as keras

from core.code_fingerprint import code_fingerprint
from trainer_module.progress import PROGRESS_LOGGER
from trainer_module.stage_runner import Stage

# Under the pipeline root's Trainer directory: <pipeline_root>/Trainer/.resume/<key>/
RESUME_DIR_NAME = ".resume"
_STATE = "state"


def backup_dir(root: str, identity: Mapping[str, Any]) -> str:
    """`root`/<hash of identity and code>: the same training gets the same directory."""
    code = code_fingerprint("trainer_module.run")  # run_fn and every module of ours it imports
    payload = json.dumps({**identity, "code": code}, sort_keys=True, default=str)
    return os.path.join(root, hashlib.sha256(payload.encode()).hexdigest()[:16])


class Backup:
    """The backup of one training: what it says on start, and the callback that writes it."""

    def __init__(self, directory: str, model: keras.Model):
        self.directory = directory
        self._model = model  # the whole model: both stages' weights live in it
        latest = tf.train.latest_checkpoint(directory)
        self._restore_from = latest
        self.state: dict[str, Any] = {"stage": None, "epochs_done": 0, "complete": False}
        self.state.update(history={}, resumed_at=[], log_dir=None)
        if latest:
            reader = tf.train.load_checkpoint(latest)
            self.state.update(json.loads(reader.get_tensor(f"{_STATE}/.ATTRIBUTES/VARIABLE_VALUE")))
            self.state["resumed_at"].append(self.state["epochs_done"] + 1)

    @property
    def resuming(self) -> bool:
        return self._restore_from is not None

    def remaining(self, stage: Stage) -> Stage:
        """`stage` without the epochs the backup already holds (maybe none left)."""
        start = min(max(stage.initial_epoch, self.state["epochs_done"]), stage.epochs)
        return dataclasses.replace(stage, initial_epoch=start)

    def announce(self, total_epochs: int) -> None:
        if not self.resuming:
            return
        if self.state["epochs_done"] >= total_epochs and self.state["complete"]:
            logging.getLogger(PROGRESS_LOGGER).info(
                "the backup in %s holds all %d epochs: exporting", self.directory, total_epochs
            )
        else:
            logging.getLogger(PROGRESS_LOGGER).info(
                "resuming at epoch %d/%d (%s stage) from the backup in %s",
                self.state["epochs_done"] + 1,
                total_epochs,
                "fine-tune" if self._next_stage_is_fine_tune() else "head",
                self.directory,
            )

    def _next_stage_is_fine_tune(self) -> bool:
        stage, complete = self.state["stage"], self.state["complete"]
        return stage == "fine_tune" or (stage == "head" and complete)

    def adopt_logs(self, log_dir: str) -> None:
        """Copies the killed run's TensorBoard files into `log_dir`: one continuous history."""
        previous, self.state["log_dir"] = self.state["log_dir"], log_dir
        if not self.resuming or not previous or previous == log_dir:
            return
        for folder, _, names in tf.io.gfile.walk(previous):
            target = os.path.join(log_dir, os.path.relpath(folder, previous))
            tf.io.gfile.makedirs(target)
            for name in names:
                if name.startswith("events.out.tfevents"):
                    tf.io.gfile.copy(os.path.join(folder, name), os.path.join(target, name), True)
        with tf.summary.create_file_writer(os.path.join(log_dir, "train")).as_default():
            resumed = self.state["epochs_done"]
            tf.summary.text("resumed", f"resumed after epoch {resumed}", step=resumed)

    def history(self) -> dict[str, dict[str, list]]:
        """Per stage, every epoch's logs, before and after any resume, and where it resumed."""
        history = {stage: dict(logs) for stage, logs in self.state["history"].items()}
        for epoch in self.state["resumed_at"]:
            for logs in history.values():
                if epoch in logs["epoch"]:
                    logs.setdefault("resumed_at_epoch", []).append(epoch)
        return history

    def callback(self, stage: Stage) -> keras.callbacks.Callback:
        return _BackupCallback(self, stage)

    def restore(
        self, optimizer: keras.optimizers.Optimizer | None = None, stage: Stage | None = None
    ) -> None:
        """Puts the saved weights back, once; the optimizer too if the backup is of `stage`.

        Called when a stage starts; without arguments after the stages, for a backup that
        held every epoch (killed before the export), so that what is exported is trained.
        """
        if self._restore_from is None:
            return
        objects: dict[str, Any] = {"model": self._model}
        if stage and self.state["stage"] == stage.name and not self.state["complete"]:
            optimizer.build(self._model.trainable_variables)
            objects["optimizer"] = optimizer
        tf.train.Checkpoint(**objects).restore(self._restore_from).expect_partial()
        self._restore_from = None

    def save(self, optimizer: keras.optimizers.Optimizer) -> None:
        """One checkpoint holding everything: a kill mid-save leaves the previous one whole."""
        self.state["saves"] = self.state.get("saves", 0) + 1
        state = tf.Variable(json.dumps(self.state))
        checkpoint = tf.train.Checkpoint(model=self._model, optimizer=optimizer, **{_STATE: state})
        manager = tf.train.CheckpointManager(checkpoint, self.directory, max_to_keep=1)
        # Numbered by the saves of the whole training: a new Checkpoint counts from 1
        # again, and the manager would then delete the file it just wrote.
        manager.save(checkpoint_number=self.state["saves"])

    def remove(self) -> None:
        if tf.io.gfile.exists(self.directory):
            tf.io.gfile.rmtree(self.directory)


class _BackupCallback(keras.callbacks.Callback):
    """Restores at the stage's start, backs up at each epoch's end and at the stage's end.

    Must come after the services (best weights) so that the stage-end backup
    holds the weights the next stage starts from.
    """

    def __init__(self, backup: Backup, stage: Stage):
        super().__init__()
        self._backup = backup
        self._stage = stage

    def on_train_begin(self, logs=None) -> None:
        self._backup.restore(self.model.optimizer, self._stage)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        state = self._backup.state
        history = state["history"].setdefault(self._stage.name, {"epoch": []})
        history["epoch"].append(epoch + 1)
        for name, value in (logs or {}).items():
            history.setdefault(name, []).append(float(value))
        state.update(stage=self._stage.name, epochs_done=epoch + 1, complete=False)
        self._backup.save(self.model.optimizer)

    def on_train_end(self, logs=None) -> None:
        state = self._backup.state
        state.update(stage=self._stage.name, complete=True)
        state["epochs_done"] = max(state["epochs_done"], self._stage.epochs)
        self._backup.save(self.model.optimizer)
