"""Every patch of a library's internals the project keeps, each gated and scoped to a block.

A shim stays only while it pays: it saves at least 10 % of its component's time at
full size (`benchmarks/patches.py`, run by `make bench`, measures each against Transform
without it, in the same run) or fixes a correctness bug. Each one here:

- says what it changes, and what upstream change makes it unnecessary;
- applies only inside a `with` block, and only in this process: TFX executors enter
  the block in their `Do` (`components.beam_tfrecords.StoredTfrecordsExecutor`), the
  Trainer around its training (`trainer_module.run`). Whatever runs in a Beam SDK worker
  process (a distributed runner) gets the library as it is: slower, the same output;
- is a no-op once the pinned library does the thing itself (its gate);
- has a canary in `tests/core/test_shims.py` that fails when the pinned library changes
  what the shim relies on, or no longer needs it.

Removed after measuring (docs/PERFORMANCE.md, issue 24): Beam's state-sampling period
and Transform's analysis-input skip each saved about 9 % of Transform, not 10 % across
the spread.

The libraries are imported inside each shim: importing `core` stays light.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import zlib
from collections.abc import Iterator

STORED = 0  # zlib level 0: the bytes as they are, with GZIP framing and checksums


@contextlib.contextmanager
def gzip_write_level(level: int) -> Iterator[None]:
    """Within the block, GZIP files written by Beam in this process use zlib `level` (0-9).

    Why: TFX writes every Examples artifact as GZIP TFRecords and Beam compresses at
    zlib's default level (6), with no option to choose it (`WriteToTFRecord` takes a
    compression type, not a level). Transform stores raw 150x150 pixels: level 6 shrinks
    them to 71 % at the cost of most of Transform's time; stored blocks write them at
    disk speed, and the Trainer reading them every epoch no longer inflates them.
    Patched: `apache_beam.io.filesystem.CompressedFile._initialize_compressor`.
    Unnecessary when: Beam's file sinks take a compression level (none does up to the
    pinned 2.59; the canary checks `WriteToTFRecord`'s parameters).
    """
    if not 0 <= level <= 9:
        raise ValueError(f"zlib level {level}: must be 0 (stored) to 9 (smallest)")
    from apache_beam.io.filesystem import CompressedFile, CompressionTypes

    original = CompressedFile._initialize_compressor

    def initialize_compressor(self: CompressedFile) -> None:
        if self._compression_type == CompressionTypes.GZIP:
            self._compressor = zlib.compressobj(level, zlib.DEFLATED, self._gzip_mask)
        else:
            original(self)

    CompressedFile._initialize_compressor = initialize_compressor
    try:
        yield
    finally:
        CompressedFile._initialize_compressor = original


@contextlib.contextmanager
def hardware_crc32c() -> Iterator[None]:
    """Within the block, Beam's TFRecord checksums use google-crc32c (the same CRC32C).

    Why: every record carries a CRC32C, which Beam 2.59 computes with python-snappy's
    C function if installed, else with crcmod. python-snappy 0.7 has no CRC function any
    more and 0.6 has no wheel for Python 3.11, so Beam's supported faster path cannot be
    installed here. google-crc32c (installed with the Google Cloud libraries TFX needs)
    computes it with the CPU's instruction.
    Patched: `apache_beam.io.tfrecordio._default_crc32c_fn.fn`, the hook where Beam keeps
    the implementation it found.
    Unnecessary when: Beam picks google-crc32c itself (apache/beam#34374, merged 2025-03,
    in a Beam release after the pinned 2.59); the gate then leaves Beam alone.
    """
    import google_crc32c
    from apache_beam.io import tfrecordio

    if beam_picks_google_crc32c() or google_crc32c.implementation != "c":
        yield  # Beam's own choice, or google-crc32c's pure-Python fallback (slower)
        return
    hook = tfrecordio._default_crc32c_fn
    original = hook.fn
    hook.fn = google_crc32c.value
    try:
        yield
    finally:
        hook.fn = original


@functools.cache
def beam_picks_google_crc32c() -> bool:
    """Whether the installed Beam looks for google-crc32c itself (apache/beam#34374)."""
    from apache_beam.io import tfrecordio

    return "google_crc32c" in inspect.getsource(tfrecordio._default_crc32c_fn)


@contextlib.contextmanager
def tf_keras_left_unconverted() -> Iterator[None]:
    """Within the block, AutoGraph traces tf_keras's own code instead of converting it.

    Why: inside a `tf.function` AutoGraph converts every function it meets unless a
    rule says not to. TF 2.16 has rules for `tensorflow` and `keras`, not `tf_keras`
    (Keras 2 since TF 2.16, which the pipeline uses), so each first trace of `fit` or
    `evaluate` parses, transforms and recompiles the source of every tf_keras function
    it reaches (Model.train_step, each layer's __call__, the optimizer, the metrics):
    for Xception, nearly all of the first `fit` step's time. The traced graphs are the
    same: tf_keras's code holds no Python control flow on tensors (it uses tf.cond and
    smart_cond itself), and if it did, tracing would fail loudly.
    Patched: `tensorflow.python.autograph.core.config.CONVERSION_RULES` gets TensorFlow's
    own later rule, `DoNotConvert("tf_keras")`, added on TensorFlow's main branch after 2.16.
    Unnecessary when: the pinned TensorFlow has that rule; the gate (`converts_tf_keras`)
    then adds nothing. Scoped: the Evaluator, in the same process under LocalDagRunner,
    and every later test get TensorFlow's rules as they were.
    """
    from tensorflow.python.autograph.core import config as autograph_config
    from tensorflow.python.autograph.core import config_lib

    before = autograph_config.CONVERSION_RULES
    if converts_tf_keras():
        autograph_config.CONVERSION_RULES = (*before, config_lib.DoNotConvert("tf_keras"))
    try:
        yield
    finally:
        autograph_config.CONVERSION_RULES = before


def converts_tf_keras() -> bool:
    """Whether AutoGraph would convert tf_keras's functions (no rule stops it first)."""
    import tf_keras
    from tensorflow.python.autograph.core import config as autograph_config
    from tensorflow.python.autograph.core import config_lib

    for rule in autograph_config.CONVERSION_RULES:
        action = rule.get_action(tf_keras)
        if action != config_lib.Action.NONE:
            return action == config_lib.Action.CONVERT
    return True
