"""The TFX executors that write TFRecords do it as stored GZIP blocks with hardware checksums.

TFX writes every Examples artifact as GZIP TFRecords. ExampleGen stores JPEGs, which are
already compressed, and Transform raw pixels, which zlib's default level compresses
slowly: for both, stored blocks (zlib level 0) and google-crc32c's checksums are what
`core.shims` makes Beam write, for the duration of the executor's `Do`. The files stay
ordinary GZIP TFRecords with the same checksums, so every reader (TFX, TFDV, TFMA,
tf.data) is unaffected; the shims' docstrings say why they are patches and what
`make bench` measured them to save.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from core import shims


class StoredTfrecordsExecutor:
    """Mixin for a TFX executor: its `Do` writes GZIP TFRecords as stored blocks, checksummed
    in hardware (`fast_tfrecord_io(STORED)`). List it before the TFX executor it wraps."""

    def Do(  # noqa: N802 - TFX API
        self, input_dict: dict[str, Any], output_dict: dict[str, Any], exec_properties: dict
    ) -> None:
        with fast_tfrecord_io(shims.STORED):
            super().Do(input_dict, output_dict, exec_properties)


@contextlib.contextmanager
def fast_tfrecord_io(gzip_level: int) -> Iterator[None]:
    """Within the block, Beam in this process writes GZIP at zlib `gzip_level` (0-9) and
    checksums TFRecords in hardware when google-crc32c has its C extension."""
    with shims.gzip_write_level(gzip_level), shims.hardware_crc32c():
        yield
