"""Sets the zlib level of the GZIP files Beam writes, for the duration of a block.

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

The files stay ordinary GZIP TFRecords, so every reader (TFX, TFDV, TFMA,
tf.data) is unaffected. The level is patched into Beam's `CompressedFile` of
this process only: with Beam's default `in_memory` mode the writes run here;
`multi_processing` workers are other processes and keep zlib's default.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator

from apache_beam.io.filesystem import CompressedFile, CompressionTypes

STORED = 0  # no compression: the bytes as they are, with GZIP framing and checksums


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
