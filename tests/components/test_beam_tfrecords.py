"""TFRecords written with another zlib level and hardware checksums stay ordinary GZIP TFRecords."""

import glob
import os

import apache_beam as beam
import tensorflow as tf
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

from components import beam_tfrecords
from core import shims

# Compressible, like pixels: level 6 shrinks it, stored blocks do not.
RECORDS = [bytes(range(256)) * 40 + bytes([i]) for i in range(50)]


def write_records(directory: str) -> str:
    """Writes RECORDS with Beam's GZIP TFRecord sink; returns the file."""
    prefix = os.path.join(directory, "data")
    with beam.Pipeline(argv=["--direct_running_mode=in_memory"]) as pipeline:
        _ = (
            pipeline
            | beam.Create(RECORDS)
            | beam.io.WriteToTFRecord(prefix, file_name_suffix=".gz", num_shards=1)
        )
    (path,) = glob.glob(prefix + "*.gz")
    return path


def read_records(path: str) -> list[bytes]:
    return list(tf.data.TFRecordDataset(path, compression_type="GZIP").as_numpy_iterator())


def test_stored_gzip_is_read_back_by_tensorflow_and_the_default_level_returns(tmp_path):
    with beam_tfrecords.fast_tfrecord_io(shims.STORED):
        stored = write_records(str(tmp_path / "stored"))
    default = write_records(str(tmp_path / "default"))

    assert sorted(read_records(stored)) == sorted(RECORDS)
    assert sorted(read_records(default)) == sorted(RECORDS)
    raw_bytes = sum(len(r) for r in RECORDS)
    assert os.path.getsize(stored) > raw_bytes  # stored blocks: no compression
    assert os.path.getsize(default) < raw_bytes / 4  # zlib's default level again


class _RecordsExecutor:
    """Stands for a TFX executor whose Do writes TFRecords with Beam."""

    def Do(self, input_dict, output_dict, exec_properties):  # noqa: N802 - TFX API
        output_dict["path"] = write_records(exec_properties["directory"])


class _StoredRecordsExecutor(beam_tfrecords.StoredTfrecordsExecutor, _RecordsExecutor):
    pass  # the mixin alone: what our ExampleGen and Transform executors add


def test_the_executor_mixin_stores_what_do_writes_and_only_during_do(tmp_path):
    written: dict = {}
    _StoredRecordsExecutor().Do({}, written, {"directory": str(tmp_path / "in_do")})
    raw_bytes = sum(len(r) for r in RECORDS)
    assert os.path.getsize(written["path"]) > raw_bytes
    assert sorted(read_records(written["path"])) == sorted(RECORDS)
    assert os.path.getsize(write_records(str(tmp_path / "after"))) < raw_bytes / 4


def test_example_gen_and_transform_write_through_the_mixin():
    from components.fast_transform.executor import Executor as TransformExecutor
    from components.tfds_example_gen.executor import Executor as ExampleGenExecutor

    for executor in (ExampleGenExecutor, TransformExecutor):
        mixin = executor.__mro__.index(beam_tfrecords.StoredTfrecordsExecutor)
        tfx_executor = executor.__mro__.index(BaseBeamExecutor) - 1  # the TFX class it wraps
        assert mixin < tfx_executor
