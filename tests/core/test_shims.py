"""The shims of library internals (core/shims.py): each scoped to its block, each output the
library's own, and a canary per shim that fails when the pinned library changes what the
shim relies on, or stops needing it (then remove the shim)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from apache_beam.io import tfrecordio
from apache_beam.io.filesystem import CompressedFile
from tensorflow.python.autograph.core import config as autograph_config

from core import shims

# --- gzip_write_level: Beam writes GZIP at a chosen zlib level -----------------------------


def test_canary_beam_still_has_no_compression_level_and_compresses_where_the_shim_hooks():
    """Fails when Beam's TFRecord sink takes a level (use it, remove the shim) or when
    CompressedFile no longer builds its compressor in `_initialize_compressor`."""
    assert not any("level" in p for p in inspect.signature(tfrecordio.WriteToTFRecord).parameters)
    source = inspect.getsource(CompressedFile._initialize_compressor)
    assert "zlib.compressobj" in source and "_gzip_mask" in source


def test_a_level_outside_zlib_range_is_refused_and_beam_is_left_alone():
    original = CompressedFile._initialize_compressor
    with pytest.raises(ValueError, match="0 \\(stored\\) to 9"):
        with shims.gzip_write_level(10):
            pass
    with shims.gzip_write_level(shims.STORED):
        assert CompressedFile._initialize_compressor is not original
    assert CompressedFile._initialize_compressor is original


# --- hardware_crc32c: Beam's TFRecord checksums with google-crc32c ------------------------


def test_canary_beam_does_not_pick_google_crc32c_itself_and_keeps_its_hook():
    """Fails when the pinned Beam looks for google-crc32c itself (apache/beam#34374): the
    shim's gate then makes it a no-op, and it can be removed."""
    assert not shims.beam_picks_google_crc32c()
    assert hasattr(tfrecordio._default_crc32c_fn, "fn")


def test_the_hardware_checksum_is_beams_crc32c_and_only_inside_the_block():
    record = bytes(range(256)) * 300
    software = tfrecordio._TFRecordUtil._masked_crc32c(record)
    before = tfrecordio._default_crc32c_fn.fn
    with shims.hardware_crc32c():
        assert tfrecordio._TFRecordUtil._masked_crc32c(record) == software
    assert tfrecordio._default_crc32c_fn.fn is before


# --- tf_keras_left_unconverted: AutoGraph traces tf_keras instead of converting it --------


def test_canary_the_pinned_tensorflow_still_converts_tf_keras():
    """The rule exists because TF 2.16 lacks `DoNotConvert("tf_keras")`. When the pinned
    TensorFlow has it, this fails: remove the shim and its use in run_fn."""
    assert shims.converts_tf_keras()


def test_tf_keras_is_left_unconverted_inside_the_block_and_converted_again_after_it():
    before = autograph_config.CONVERSION_RULES
    with shims.tf_keras_left_unconverted():
        inside = autograph_config.CONVERSION_RULES
        assert not shims.converts_tf_keras()
        assert inside[: len(before)] == before  # only appended: TensorFlow's own rules apply
        assert len(inside) == len(before) + 1
    assert autograph_config.CONVERSION_RULES is before
    assert shims.converts_tf_keras()


def test_the_rules_are_restored_when_the_training_fails():
    before = autograph_config.CONVERSION_RULES
    with pytest.raises(RuntimeError):
        with shims.tf_keras_left_unconverted():
            raise RuntimeError("a failed epoch")
    assert autograph_config.CONVERSION_RULES is before


def test_a_keras_model_traced_without_conversion_computes_what_it_does_eagerly():
    model = keras.Sequential(
        [keras.Input([4]), keras.layers.Dense(3), keras.layers.Dropout(0.5), keras.layers.Dense(1)]
    )
    inputs = tf.random.stateless_uniform([2, 4], seed=[1, 2])
    with shims.tf_keras_left_unconverted():
        traced = tf.function(lambda x: model(x, training=False))
        np.testing.assert_allclose(traced(inputs), model(inputs, training=False), rtol=1e-6)


def test_importing_core_imports_none_of_the_patched_libraries():
    """The shims import their library when entered: `core` stays light for the CLI."""
    import subprocess
    import sys

    code = "import sys, core.shims; print(sorted({'apache_beam', 'tensorflow'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr[-2000:]
