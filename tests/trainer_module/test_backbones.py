"""`--backbone`: any keras.applications base, its own preprocessing, the guide's BatchNorm rule."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from core import backbones
from core.config import ConfigError, PipelineConfig
from tests.helpers import count_params
from trainer_module import model as model_lib


def build(backbone: str, image_size: int = 96, num_classes: int = 2):
    config = PipelineConfig.for_profile("sample", backbone=backbone, image_size=image_size).training
    return model_lib.build_transfer_model(config, image_size, num_classes)


def test_mobilenetv2_freezes_to_the_head_and_unfreezes_all_but_batchnorm_statistics():
    """The guide's two stages on another backbone: frozen, only the head (features + bias)
    learns; unfrozen, every weight but the BatchNorm moving statistics does."""
    transfer = build("mobilenetv2")
    transfer.base.trainable = False
    assert count_params(transfer.model.trainable_weights) == transfer.base.output_shape[-1] + 1
    transfer.base.trainable = True
    batchnorm = keras.layers.BatchNormalization
    batchnorms = [layer for layer in transfer.base.layers if isinstance(layer, batchnorm)]
    assert len(transfer.model.non_trainable_weights) == 2 * len(batchnorms) > 0
    assert all("moving_" in w.name for w in transfer.model.non_trainable_weights)


@pytest.mark.parametrize("backbone", ["efficientnetb0", "resnet50"])
def test_the_base_runs_in_inference_mode_and_the_head_is_new(backbone):
    transfer = build(backbone, num_classes=3)
    (call,) = [
        node
        for node in transfer.model._nodes_by_depth.values()
        for node in node
        if node.layer is transfer.base
    ]
    assert call.call_kwargs.get("training") is False  # the guide's BatchNorm rule
    assert transfer.model.output.shape.as_list() == [None, 3]


def test_each_backbone_preprocesses_as_its_preprocess_input_does():
    pixels = tf.constant(np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)), tf.float32)
    for name, module in (
        ("xception", keras.applications.xception),
        ("resnet50", keras.applications.resnet50),
        ("mobilenetv2", keras.applications.mobilenet_v2),
        ("densenet121", keras.applications.densenet),
        ("efficientnetb0", keras.applications.efficientnet),  # identity: it rescales inside
    ):
        expected = module.preprocess_input(tf.identity(pixels))
        np.testing.assert_allclose(
            model_lib.preprocessing_layer(name)(pixels), expected, atol=1e-4, err_msg=name
        )


def test_an_unknown_backbone_fails_before_any_work_listing_the_choices():
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.for_profile("sample", backbone="vgg99")
    assert "--backbone 'vgg99' is unknown" in str(raised.value)
    for name in backbones.BACKBONES:
        assert name in str(raised.value)


def test_the_minimum_image_size_is_the_backbones():
    PipelineConfig.for_profile("sample", backbone="mobilenetv2", image_size=32)
    with pytest.raises(ConfigError, match="below xception's minimum input of 71"):
        PipelineConfig.for_profile("sample", image_size=64)
    with pytest.raises(ConfigError, match="below inceptionv3's minimum input of 75"):
        PipelineConfig.for_profile("sample", backbone="inceptionv3", image_size=72)


def test_missing_weights_name_the_backbones_own_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(model_lib.WeightsUnavailableError) as raised:
        model_lib.resolve_weights("imagenet", "mobilenetv2", 160)
    expected = (
        tmp_path / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5"
    )
    assert str(expected) in str(raised.value)
    assert backbones.weights_file_name("mobilenetv2", 150).endswith("_1.0_224_no_top.h5")
    assert backbones.weights_file_name("efficientnetb0", 150) == "efficientnetb0_notop.h5"
