"""More than two classes: one logit per class, softmax cross-entropy; two keep the guide's logit."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from core.config import PipelineConfig
from tests.helpers import count_params
from trainer_module import model as model_lib
from trainer_module import objective, training
from trainer_module.stage_runner import StageRunner

SIZE = 71


def test_two_classes_keep_one_logit_and_binary_cross_entropy():
    assert objective.output_units(2) == 1
    assert type(objective.make_loss(2)).__name__ == "BinaryCrossentropy"


def test_n_classes_get_a_softmax_head_and_sparse_categorical_cross_entropy():
    assert objective.output_units(3) == 3
    loss = objective.make_loss(3)
    assert type(loss).__name__ == "SparseCategoricalCrossentropy"
    assert loss.get_config()["from_logits"]
    labels, logits = tf.constant([2, 0]), tf.constant([[0.0, 0.0, 9.0], [9.0, 0.0, 0.0]])
    (accuracy,) = objective.make_metrics(3)
    accuracy.update_state(labels, logits)
    assert float(accuracy.result()) == 1.0


def test_a_three_class_model_trains_a_head_of_three_logits():
    config = PipelineConfig.for_profile(
        "sample", image_size=SIZE, head_epochs=1, fine_tune_epochs=0, batch_size=4
    ).training
    keras.utils.set_random_seed(0)
    transfer = model_lib.build_transfer_model(config, SIZE, num_classes=3)
    assert transfer.model.output.shape.as_list() == [None, 3]
    assert objective.num_classes_of(transfer.model) == 3
    transfer.base.trainable = False
    assert count_params(transfer.model.trainable_weights) == 2048 * 3 + 3

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(8, SIZE, SIZE, 3)).astype(np.uint8)
    data = tf.data.Dataset.from_tensor_slices((images, (np.arange(8) % 3).astype("float32")))
    runner = StageRunner(config)
    training.train(transfer, data.batch(4), data.batch(4), config, runner)
    history = runner.histories[training.HEAD]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.history)


def test_the_trainer_takes_the_class_names_from_the_curated_schema(tmp_path):
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.utils import io_utils

    from components.curated_schema_gen.curation import curate
    from trainer_module.run import _class_names

    path = str(tmp_path / "schema.pbtxt")
    io_utils.write_pbtxt_file(path, curate(schema_pb2.Schema(), ["daisy", "rose", "tulip"]))
    assert _class_names(path, 3) == ("daisy", "rose", "tulip")
    with pytest.raises(ValueError, match="pass --num-classes 3"):
        _class_names(path, 2)
    assert _class_names(None, 2) == ("cat", "dog")  # a label without ClassLabel names
