"""Beam executor of TfdsExampleGen: reads TFDS shards in parallel into tf.Examples."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
import tensorflow as tf
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor

from components.tfds_example_gen import tfds_source

# Output feature keys. Whatever a dataset calls its image and label, the
# pipeline downstream of ExampleGen sees these names.
IMAGE_KEY = "image"
LABEL_KEY = "label"
FILENAME_KEY = "image/filename"

DATASET_NAME = "dataset_name"
DATASET_VERSION = "dataset_version"
DATA_DIR = "data_dir"
SOURCE_IMAGE_KEY = "image_key"
SOURCE_LABEL_KEY = "label_key"


def _read_shard_slice(
    shard: tfds_source.ShardSlice, image_key: str, label_key: str
) -> Iterator[bytes]:
    """Yields the serialized tf.Examples of one shard slice, with canonical feature keys."""
    records = tf.data.TFRecordDataset(shard.filename).skip(shard.skip).take(shard.take)
    for record in records.as_numpy_iterator():
        source = tf.train.Example.FromString(record).features.feature
        example = tf.train.Example()
        features = example.features.feature
        features[IMAGE_KEY].CopyFrom(source[image_key])
        features[LABEL_KEY].CopyFrom(source[label_key])
        if FILENAME_KEY in source:
            features[FILENAME_KEY].CopyFrom(source[FILENAME_KEY])
        yield example.SerializeToString()


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(bytes)
def _TfdsSplitToExamples(  # noqa: N802 - Beam's PTransform naming
    pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str
) -> beam.pvalue.PCollection:
    builder = tfds_source.open_prepared_builder(
        exec_properties[DATASET_NAME],
        exec_properties[DATA_DIR],
        exec_properties.get(DATASET_VERSION) or "",
    )
    shards = tfds_source.shard_slices(builder, split_pattern)
    return (
        pipeline
        | "ShardSlices" >> beam.Create(shards)
        # Spread the shards over workers instead of reading them where they were created.
        | "Distribute" >> beam.Reshuffle()
        | "ReadShard"
        >> beam.FlatMap(
            _read_shard_slice,
            image_key=exec_properties[SOURCE_IMAGE_KEY],
            label_key=exec_properties[SOURCE_LABEL_KEY],
        )
    )


class Executor(BaseExampleGenExecutor):
    """Each input split's pattern is a TFDS split string such as 'train[:40%]'."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802 - TFX API
        return _TfdsSplitToExamples
