"""GPU paths, checked on CPU: strategy choice, batch scaling, precision policies, XLA flag."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from core.config import ConfigError, PipelineConfig
from tests.helpers import tiny_regression_batches as tiny_data
from trainer_module import custom_loop, devices, feature_cache, training
from trainer_module import model as model_lib

SIZE = 71


def test_one_or_no_gpu_keeps_the_default_strategy_and_batch():
    assert devices.plan_strategy([], 32) == devices.StrategyPlan("default", (), 32)
    assert devices.plan_strategy(["/device:GPU:0"], 32).kind == "default"


def test_batch_size_is_the_global_batch_split_over_the_replicas():
    # The guide's 32 stays the batch each optimizer step sees, whatever the GPU count.
    plan = devices.plan_strategy(["/device:GPU:0", "/device:GPU:1", "/device:GPU:2"], 32)
    assert plan.kind == "mirrored"
    assert plan.devices == ("/device:GPU:0", "/device:GPU:1", "/device:GPU:2")
    assert plan.global_batch_size == 32
    assert devices.plan_strategy(["/device:GPU:0", "/device:GPU:1"], 32).replica_batch_size == 16
    assert devices.plan_strategy([], 32).replica_batch_size == 32


def mirrored() -> tf.distribute.Strategy:
    # A CPU device stands in for the GPUs: MirroredStrategy accepts any local devices.
    return devices.make_strategy(devices.StrategyPlan("mirrored", ("/cpu:0",), 4))


def test_both_loops_train_inside_a_mirrored_strategy():
    strategy, data = mirrored(), tiny_data()
    for loop in ("fit", "custom"):
        with strategy.scope():
            tiny = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
            training.compile_for_stage(tiny, keras.optimizers.Adam(0.1))
        before = tiny.get_weights()[0].copy()
        if loop == "fit":
            tiny.fit(data, validation_data=data, epochs=1, verbose=0)
        else:
            custom_loop.fit_custom(tiny, data, data, initial_epoch=0, epochs=1, callbacks=[])
        assert tiny.distribute_strategy is strategy
        assert not np.array_equal(before, tiny.get_weights()[0]), loop


@pytest.mark.parametrize("mode,compute", [("float16", "float16"), ("bfloat16", "bfloat16")])
def test_mixed_precision_computes_in_half_but_keeps_logits_and_loss_in_float32(mode, compute):
    config = PipelineConfig.for_profile("sample", image_size=SIZE, mixed_precision=mode).training
    transfer = model_lib.build_transfer_model(config, SIZE)
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after building
    conv = next(la for la in transfer.base.layers if isinstance(la, keras.layers.Conv2D))
    assert conv.compute_dtype == compute and conv.variable_dtype == "float32"
    assert transfer.model.get_layer("logit").compute_dtype == "float32"
    assert transfer.model.output.dtype == tf.float32
    training.compile_for_stage(transfer.model, keras.optimizers.Adam(1e-3))
    scaled = isinstance(transfer.model.optimizer, keras.mixed_precision.LossScaleOptimizer)
    assert scaled == (mode == "float16")  # float16 needs loss scaling; bfloat16 does not


def test_feature_cache_extracts_inside_a_mirrored_strategy():
    with mirrored().scope():
        extractor = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5)])
    cache = feature_cache.extract(extractor, tiny_data())
    assert cache.features.shape == (8, 5) and cache.features.dtype == np.float32
    assert cache.labels.shape == (8,) and cache.batch_size == 4


def test_custom_loop_scales_the_float16_loss_and_still_learns():
    with devices.precision_policy("float16"):
        tiny = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1, dtype="float32")]
        )
    training.compile_for_stage(tiny, keras.optimizers.Adam(0.1))
    data = tiny_data()
    history = custom_loop.fit_custom(tiny, data, data, initial_epoch=0, epochs=3, callbacks=[])
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_jit_compile_flag_reaches_keras():
    tiny = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    training.compile_for_stage(tiny, keras.optimizers.Adam(1e-3), jit_compile=True)
    assert tiny.jit_compile is True


def test_unknown_precision_and_loop_are_config_errors():
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.for_profile(
            "sample", mixed_precision="int8", training_loop="scan", early_stopping_patience=-1
        )
    for flag in ("--mixed-precision 'int8'", "--training-loop 'scan'", "--early-stopping-patience"):
        assert flag in str(raised.value)
