"""Makes Beam's TFRecord files cheaper to write and read, for the duration of a block.

TFX writes every Examples artifact as GZIP TFRecords, and Beam compresses at
zlib's default level (6), with no option to change it. Measured at the real
dataset's size (`benchmarks/data_path.py`, 2 cores), that default was the most
expensive step of both data components:

- ExampleGen stores JPEGs, which are already compressed: level 6 saved 3 % of
  the bytes for as much CPU as validating every image.
- Transform stores 150x150 uint8 pixels: level 6 shrinks them to 71 % at about
  30 MB/s, half of Transform's time. Stored blocks (level 0) write them at the
  raw size (67.5 KB an example) at disk speed, and the Trainer reading them
  every epoch no longer inflates them.

Every record also carries a CRC32C checksum, which Beam computes with crcmod
(0.15 ms per 67 KB pixel example, read and written: a fifth of Transform's
time) unless python-snappy is installed. google-crc32c, already installed with
the Google Cloud libraries TFX depends on, computes the same checksum with the
CPU's CRC32C instruction, about 50 times faster.

The files stay ordinary GZIP TFRecords with the same checksums, so every reader
(TFX, TFDV, TFMA, tf.data) is unaffected. Both are patched into Beam in this
process only: with Beam's default `in_memory` mode the work runs here;
`multi_processing` workers are other processes and keep Beam's defaults.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from typing import Any

import google_crc32c
from apache_beam.io import tfrecordio
from apache_beam.io.filesystem import CompressedFile, CompressionTypes

STORED = 0  # no compression: the bytes as they are, with GZIP framing and checksums


class StoredTfrecordsExecutor:
    """Mixin for a TFX executor: its `Do` writes GZIP TFRecords as stored blocks, checksummed
    in hardware (`fast_tfrecord_io(STORED)`). List it before the TFX executor it wraps."""

    def Do(  # noqa: N802 - TFX API
        self, input_dict: dict[str, Any], output_dict: dict[str, Any], exec_properties: dict
    ) -> None:
        with fast_tfrecord_io(STORED):
            super().Do(input_dict, output_dict, exec_properties)


@contextlib.contextmanager
def fast_tfrecord_io(gzip_level: int) -> Iterator[None]:
    """Within the block, Beam in this process writes GZIP at zlib `gzip_level` (0-9) and
    checksums TFRecords in hardware when google-crc32c has its C extension."""
    with gzip_write_level(gzip_level), hardware_crc32c():
        yield


@contextlib.contextmanager
def hardware_crc32c() -> Iterator[None]:
    """Within the block, Beam's TFRecord checksums use google-crc32c (the same CRC32C).

    `_default_crc32c_fn.fn` is the hook where Beam caches the implementation it found.
    """
    if google_crc32c.implementation != "c":  # its pure-Python fallback is slower than crcmod
        yield
        return
    hook = tfrecordio._default_crc32c_fn
    original = hook.fn
    hook.fn = google_crc32c.value
    try:
        yield
    finally:
        hook.fn = original


@contextlib.contextmanager
def gzip_write_level(level: int) -> Iterator[None]:
    """Within the block, GZIP files written by Beam in this process use zlib `level` (0-9)."""
    if not 0 <= level <= 9:
        raise ValueError(f"zlib level {level}: must be 0 (stored) to 9 (smallest)")
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
