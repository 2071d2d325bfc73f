"""Our Transform executor: TFX's, writing what it transforms whole, and counting it when
Beam runs bundles in parallel.

Runs the real TFX Transform executor (real TFT, real Beam in_memory) on small generated
Examples.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils, standard_artifacts

from components.fast_transform.executor import Executor
from components.written_examples import LostExamplesError
from core import artifact_properties as properties
from core import features
from core.config import PipelineConfig
from trainer_module import pixels

IMAGE_SIZE = 8
LABELS = [0, 1, 1, 0, 1, 1]
PREPROCESSING_FN = "trainer_module.preprocessing.preprocessing_fn"
def _jpeg(seed: int) -> bytes:
    image = np.random.default_rng(seed).integers(0, 256, (20 + seed, 30, 3), dtype=np.uint8)
    return tf.io.encode_jpeg(image).numpy()


@pytest.fixture(scope="module")
def raw_examples(tmp_path_factory) -> tuple[standard_artifacts.Examples, standard_artifacts.Schema]:
    """Split `train` (six JPEGs), with its schema."""
    root = tmp_path_factory.mktemp("raw")
    examples = standard_artifacts.Examples()
    examples.uri = str(root / "examples")
    examples.split_names = artifact_utils.encode_split_names(["train"])
    os.makedirs(os.path.join(examples.uri, "Split-train"))
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    path = os.path.join(examples.uri, "Split-train", "data_tfrecord-00000-of-00001.gz")
    with tf.io.TFRecordWriter(path, options) as writer:
        for seed, label in enumerate(LABELS):
            example = tf.train.Example()
            example.features.feature[features.IMAGE_KEY].bytes_list.value.append(_jpeg(seed))
            example.features.feature[features.LABEL_KEY].int64_list.value.append(label)
            writer.write(example.SerializeToString())

    schema = standard_artifacts.Schema()
    schema.uri = str(root / "schema")
    os.makedirs(schema.uri)
    proto = schema_pb2.Schema()
    for name, kind in (
        (features.IMAGE_KEY, schema_pb2.BYTES),
        (features.LABEL_KEY, schema_pb2.INT),
    ):
        feature = proto.feature.add(name=name, type=kind)
        feature.presence.min_fraction = 1
        feature.shape.dim.add(size=1)
    with open(os.path.join(schema.uri, "schema.pbtxt"), "w") as f:
        f.write(str(proto))
    return examples, schema


def run_transform(
    executor_class,
    raw_examples,
    tmp_path,
    preprocessing_fn_path: str,
    beam_pipeline_args: list[str] | None = None,
) -> str:
    """Analyzes and transforms `train`; returns the transformed examples' uri."""
    examples, schema = raw_examples
    transform_graph = standard_artifacts.TransformGraph()
    transform_graph.uri = str(tmp_path / "transform_graph")
    transformed = standard_artifacts.Examples()
    transformed.uri = str(tmp_path / "transformed_examples")
    context = base_beam_executor.BaseBeamExecutor.Context(
        beam_pipeline_args=beam_pipeline_args
        or PipelineConfig.for_profile("sample").beam_pipeline_args(),
        tmp_dir=str(tmp_path / "tmp"),
    )
    executor_class(context).Do(
        {"examples": [examples], "schema": [schema]},
        {"transform_graph": [transform_graph], "transformed_examples": [transformed]},
        {
            "preprocessing_fn": preprocessing_fn_path,
            "custom_config": json.dumps({"image_size": IMAGE_SIZE}),
            "splits_config": json.dumps({"analyze": ["train"], "transform": ["train"]}),
            "disable_statistics": 1,
            "force_tf_compat_v1": 0,
        },
    )
    return transformed.uri


def test_train_is_transformed_into_the_resized_pixels_of_each_image(raw_examples, tmp_path):
    uri = run_transform(Executor, raw_examples, tmp_path, PREPROCESSING_FN)
    files = tf.io.gfile.glob(os.path.join(uri, "Split-train", "*.gz"))
    records = [
        tf.train.Example.FromString(r)
        for r in tf.data.TFRecordDataset(files, "GZIP").as_numpy_iterator()
    ]
    expected = {
        pixels.decode_and_resize(tf.constant(_jpeg(seed)), IMAGE_SIZE).numpy().tobytes()
        for seed in range(len(LABELS))
    }
    got = {
        pixels.decode_pixels(
            record.features.feature[features.PIXELS_KEY].bytes_list.value[0], IMAGE_SIZE
        )
        .numpy()
        .tobytes()
        for record in records
    }
    assert got == expected
    assert sorted(r.features.feature[features.LABEL_KEY].int64_list.value[0] for r in records) == (
        sorted(LABELS)
    )


def test_with_parallel_bundles_a_split_short_of_its_raw_examples_fails(raw_examples, tmp_path):
    """ExampleGen's recorded counts claim one more train example than Transform can write,
    as if Beam had lost it (components.written_examples); with parallel bundles Transform
    counts what it wrote and fails. In_memory, Transform does not count."""
    examples, schema = raw_examples
    claimed = standard_artifacts.Examples()
    claimed.uri = examples.uri
    claimed.split_names = examples.split_names
    claimed.set_string_custom_property(
        properties.SPLIT_COUNTS, json.dumps({"train": len(LABELS) + 1})
    )
    parallel = PipelineConfig.for_profile(
        "sample", beam_direct_running_mode="multi_threading", beam_direct_num_workers=2
    ).beam_pipeline_args()
    with pytest.raises(LostExamplesError, match=f"split train: {len(LABELS)} written of 7"):
        run_transform(Executor, (claimed, schema), tmp_path, PREPROCESSING_FN, parallel)
    run_transform(Executor, (claimed, schema), tmp_path / "in_memory", PREPROCESSING_FN)
