"""The guide's model: parameter counts, frozen/unfrozen states, weights resolution."""

import numpy as np
import pytest
import tf_keras as keras

from core.config import PipelineConfig
from tests.helpers import count_params
from trainer_module import model as model_lib

GUIDE_SIZE = 150


@pytest.fixture(scope="module")
def transfer():
    config = PipelineConfig.for_profile("full", weights="none").training
    return model_lib.build_transfer_model(config, GUIDE_SIZE)


def test_frozen_model_trains_only_the_head(transfer):
    transfer.base.trainable = False
    assert count_params(transfer.model.trainable_weights) == 2_049


def test_unfrozen_model_trains_everything_but_batchnorm_statistics(transfer):
    transfer.base.trainable = True
    try:
        assert count_params(transfer.model.trainable_weights) == 20_809_001
        assert count_params(transfer.model.non_trainable_weights) == 54_528
    finally:
        transfer.base.trainable = False


def test_model_takes_uint8_pixels_and_outputs_one_logit(transfer):
    assert transfer.model.input.dtype.name == "uint8"
    assert transfer.model.output.shape.as_list() == [None, 1]
    layer_types = [type(layer).__name__ for layer in transfer.model.layers]
    for expected in ("Rescaling", "GlobalAveragePooling2D", "Dropout", "Dense"):
        assert expected in layer_types


def test_random_layers_draw_distinct_streams(transfer):
    augmentation = transfer.model.get_layer("augmentation")
    flip, rotation = augmentation.layers
    assert (type(flip).__name__, flip.mode) == ("RandomFlip", "horizontal")
    assert (type(rotation).__name__, rotation.factor) == ("RandomRotation", 0.1)
    assert flip.seed != rotation.seed


def test_missing_imagenet_weights_name_the_file_and_the_fixes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(model_lib.WeightsUnavailableError) as raised:
        model_lib.resolve_weights("imagenet")
    message = str(raised.value)
    assert str(tmp_path / "models" / model_lib.XCEPTION_NOTOP_WEIGHTS) in message
    assert "--weights" in message


def test_cached_imagenet_weights_and_local_files_resolve(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cached = tmp_path / "models" / model_lib.XCEPTION_NOTOP_WEIGHTS
    cached.parent.mkdir()
    cached.write_bytes(b"")
    assert model_lib.resolve_weights("imagenet") == "imagenet"
    assert model_lib.resolve_weights(str(cached)) == str(cached)
    assert model_lib.resolve_weights("none") is None
    with pytest.raises(model_lib.WeightsUnavailableError, match="no such file"):
        model_lib.resolve_weights(str(tmp_path / "absent.h5"))


def test_recalibration_gives_a_random_base_informative_features():
    config = PipelineConfig.for_profile("sample").training
    transfer = model_lib.build_transfer_model(config, 71)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(8, 71, 71, 3), dtype=np.uint8)
    features = keras.Model(transfer.base.input, transfer.base.output)

    def scaled(x):
        return x.astype("float32") / 127.5 - 1

    before = np.abs(features(scaled(images), training=False).numpy()).mean()
    model_lib.recalibrate_batchnorm(transfer.base, images, transfer.preprocess)
    after = np.abs(features(scaled(images), training=False).numpy()).mean()
    assert before < 1e-3 < after  # vanishing before, informative after
    assert transfer.base.trainable is False  # the head stage still sees a frozen base
