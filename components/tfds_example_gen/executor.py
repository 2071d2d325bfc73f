"""Beam executor of TfdsExampleGen: reads TFDS shards in parallel into clean tf.Examples.

Before the Beam job starts, the dataset, its feature keys and every split
string are checked, so a mistake fails in seconds with one clear message. In
the job, every image goes through `image_cleaning.clean_image`: convertible
images become RGB JPEGs, broken ones are skipped. What happened to each image
is counted per split and reason, written next to the examples
(`ingestion_report/<split>.json`), logged, and recorded on the Examples
artifact together with where the data came from.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import apache_beam as beam
import tensorflow as tf
from absl import logging
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.proto import example_gen_pb2
from tfx.types import artifact, artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components import written_examples
from components.beam_tfrecords import StoredTfrecordsExecutor
from components.tfds_example_gen import image_cleaning, tfds_source
from components.tfds_example_gen.data_fingerprint import data_fingerprint, is_fingerprint
from core import artifact_properties as properties
from core import features

# Execution parameters.
DATASET_NAME = "dataset_name"
DATASET_VERSION = "dataset_version"
DATA_DIR = "data_dir"
SOURCE_IMAGE_KEY = "image_key"
SOURCE_LABEL_KEY = "label_key"
MAX_IMAGE_PIXELS = "max_image_pixels"
# Not read when it runs: it exists to change TFX's cache key (see the component), as the
# code fingerprint (core.code_fingerprint.CODE_FINGERPRINT_KEY) does.
DATA_FINGERPRINT = "data_fingerprint"

REPORT_DIR = "ingestion_report"
# Resolved before the Beam job, read while building it.
_SHARD_SLICES = "_shard_slices"
_REPORT_PATHS = "_report_paths"
_OUTCOMES = "outcomes"


class EmptySplitError(RuntimeError):
    """Every image of a split was skipped: training on it would be meaningless."""


def _read_shard_slice(
    shard: tfds_source.ShardSlice, image_key: str, label_key: str, max_pixels: int
) -> Iterator[bytes | beam.pvalue.TaggedOutput]:
    """Yields the clean serialized tf.Examples of one shard slice, and each image's outcome."""
    records = tf.data.TFRecordDataset(shard.filename).skip(shard.skip).take(shard.take)
    sources = [
        tf.train.Example.FromString(record).features.feature
        for record in records.as_numpy_iterator()
    ]

    def clean(source: Any) -> image_cleaning.CleanedImage:
        images = source[image_key].bytes_list.value
        return image_cleaning.clean_image(images[0] if images else b"", max_pixels)

    # PIL and TensorFlow decode without holding the GIL: one thread per core checks the
    # slice's images (Beam's default in_memory mode runs a single worker), in order.
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        outcomes = zip(shard.example_ids(), sources, pool.map(clean, sources), strict=True)
        yield from _examples(outcomes, label_key)


def _examples(
    outcomes: Iterator[tuple[str, Any, image_cleaning.CleanedImage]], label_key: str
) -> Iterator[bytes | beam.pvalue.TaggedOutput]:
    """Per (example id, source features, cleaned image): its outcome, then its tf.Example."""
    for example_id, source, cleaned in outcomes:
        yield beam.pvalue.TaggedOutput(_OUTCOMES, cleaned.reason)
        filename = (
            source[features.FILENAME_KEY].bytes_list.value
            if features.FILENAME_KEY in source
            else []
        )
        if cleaned.skipped:
            logging.warning(
                "skipping image %s (%s): %s",
                example_id,
                filename[0].decode(errors="replace") if filename else "-",
                cleaned.reason,
            )
            continue
        example = tf.train.Example()
        feature = example.features.feature
        feature[features.IMAGE_KEY].bytes_list.value.append(cleaned.encoded)
        feature[features.LABEL_KEY].CopyFrom(source[label_key])
        feature[features.ID_KEY].bytes_list.value.append(example_id.encode())
        if filename:
            feature[features.FILENAME_KEY].bytes_list.value.extend(filename)
        yield example.SerializeToString()


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(bytes)
def _TfdsSplitToExamples(  # noqa: N802 - Beam's PTransform naming
    pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_name: str, report_path: str
) -> beam.pvalue.PCollection:
    """Reads one output split's shard slices in parallel; writes its outcome counts to a file."""
    results = (
        pipeline
        | "ShardSlices" >> beam.Create(exec_properties[_SHARD_SLICES][split_name])
        # Spread the shards over workers instead of reading them where they were created.
        | "Distribute" >> beam.Reshuffle()
        | "ReadAndClean"
        >> beam.FlatMap(
            _read_shard_slice,
            image_key=exec_properties[SOURCE_IMAGE_KEY],
            label_key=exec_properties[SOURCE_LABEL_KEY],
            max_pixels=exec_properties[MAX_IMAGE_PIXELS],
        ).with_outputs(_OUTCOMES, main="examples")
    )
    _ = (
        results[_OUTCOMES]
        | "CountOutcomes" >> beam.combiners.Count.PerElement()
        | "ToDict" >> beam.combiners.ToDict()
        | "ToJson" >> beam.Map(lambda counts: json.dumps(counts, sort_keys=True))
        | "WriteReport" >> beam.io.WriteToText(report_path, shard_name_template="")
    )
    return results["examples"]


class Executor(StoredTfrecordsExecutor, BaseExampleGenExecutor):
    """Each input split's pattern is a TFDS split string such as 'train[:40%]'.

    The examples hold JPEG/PNG bytes, already compressed: they are written as stored
    GZIP blocks, since compressing them would save 3 % of the bytes for as much CPU
    as validating the images (components.beam_tfrecords).
    """

    def Do(  # noqa: N802 - TFX API
        self,
        input_dict: dict[str, list[artifact.Artifact]],
        output_dict: dict[str, list[artifact.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        examples = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.EXAMPLES_KEY]
        )
        splits = _split_patterns(exec_properties)
        builder = tfds_source.open_prepared_builder(
            exec_properties[DATASET_NAME],
            exec_properties[DATA_DIR],
            exec_properties.get(DATASET_VERSION) or "",
        )
        tfds_source.check_feature_keys(
            builder, exec_properties[SOURCE_IMAGE_KEY], exec_properties[SOURCE_LABEL_KEY]
        )
        slices = tfds_source.resolve_splits(builder, splits)
        for warning in tfds_source.overlapping_splits(slices):
            logging.warning(warning)

        report_paths = {
            name: os.path.join(examples.uri, REPORT_DIR, f"{name}.json") for name in splits
        }
        super().Do(
            input_dict,
            output_dict,
            {**exec_properties, _SHARD_SLICES: slices, _REPORT_PATHS: report_paths},
        )

        outcomes = {name: _read_report(path) for name, path in report_paths.items()}
        report = _summarize(outcomes)
        if written_examples.bundles_run_in_parallel(self._beam_pipeline_args):
            written_examples.check_written(
                examples.uri, report[properties.SPLIT_COUNTS], "TfdsExampleGen"
            )
        for name, counts in outcomes.items():
            logging.info("split %s: image outcomes %s", name, counts)
        examples.set_string_custom_property(properties.TFDS_NAME, builder.name)
        examples.set_string_custom_property(properties.TFDS_VERSION, str(builder.info.version))
        examples.set_string_custom_property(properties.TFDS_DATA_DIR, exec_properties[DATA_DIR])
        examples.set_string_custom_property(properties.TFDS_SPLITS, json.dumps(splits))
        # Listed again now, as read: the files may have changed since the cache key's
        # fingerprint was taken. The Pusher tells a retrained model of the same data by it.
        fingerprint = data_fingerprint(
            exec_properties[DATA_DIR],
            exec_properties[DATASET_NAME],
            str(builder.info.version),
            splits.values(),
        )
        if is_fingerprint(fingerprint):  # otherwise none: the Pusher compares bytes only
            examples.set_string_custom_property(properties.DATA_FINGERPRINT, fingerprint)
        examples.set_string_custom_property(
            properties.CLASS_NAMES,
            json.dumps(tfds_source.class_names(builder, exec_properties[SOURCE_LABEL_KEY])),
        )
        for key, value in report.items():
            examples.set_string_custom_property(key, json.dumps(value))
        empty = [name for name, count in report[properties.SPLIT_COUNTS].items() if count == 0]
        if empty:
            raise EmptySplitError(
                f"no valid image left in split(s) {', '.join(empty)} of {builder.name} after "
                f"skipping {report[properties.SKIPPED_IMAGES]}; check the data or the split strings"
            )

    def GenerateExamplesByBeam(  # noqa: N802 - TFX API
        self, pipeline: beam.Pipeline, exec_properties: dict[str, Any]
    ) -> dict[str, beam.pvalue.PCollection]:
        """One read per output split, named, so each split's outcome counts can be reported."""
        split_to_examples = self.GetInputSourceToExamplePTransform()
        return {
            name: pipeline
            | f"InputToRecord[{name}]" >> split_to_examples(exec_properties, name, report_path)
            for name, report_path in exec_properties[_REPORT_PATHS].items()
        }

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802 - TFX API
        return _TfdsSplitToExamples


def _split_patterns(exec_properties: Mapping[str, Any]) -> dict[str, str]:
    """Output split name -> TFDS split string, from the component's input config."""
    input_config = example_gen_pb2.Input()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config
    )
    return {split.name: split.pattern for split in input_config.splits}


def _read_report(path: str) -> dict[str, int]:
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def _summarize(outcomes: Mapping[str, Mapping[str, int]]) -> dict[str, dict]:
    """Per split: examples written, and images skipped or converted by reason."""
    written = {
        split: sum(
            n for reason, n in counts.items() if reason not in image_cleaning.SKIPPED_REASONS
        )
        for split, counts in outcomes.items()
    }

    def by_reason(reasons: tuple[str, ...]) -> dict[str, dict[str, int]]:
        return {
            split: {reason: n for reason, n in sorted(counts.items()) if reason in reasons}
            for split, counts in outcomes.items()
        }

    return {
        properties.SPLIT_COUNTS: written,
        properties.SKIPPED_IMAGES: by_reason(image_cleaning.SKIPPED_REASONS),
        properties.CONVERTED_IMAGES: by_reason(image_cleaning.CONVERTED_REASONS),
    }
