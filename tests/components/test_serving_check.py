"""ServingCheck: the model as a model server loads it, against the Evaluator's scores.

The pipeline's own model passes it in every e2e run (tests/test_end_to_end.py). Here,
small SavedModels of the same signatures show each way a model fails it, through the
real check: the fresh TensorFlow-only process, TFMA's loader for the reference.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow_serving.apis import prediction_log_pb2

from components.serving_check import requests
from components.serving_check.executor import check_model
from components.serving_check.verdict import HOSTILE_MEMORY_MB, TOLERANCE, judge
from core import image_guard
from core.config import EvaluationConfig
from pipeline.evaluation import make_eval_config
from pipeline.sample_data import draw_image
from tests.helpers import solid_image as encoded

LIMIT = 25_000_000


def write_test_split(root, count: int = 5) -> str:
    """ExampleGen's layout: `Split-test/*.gz`, raw tf.Examples with image, label, filename."""
    (root / "Split-test").mkdir(parents=True)
    rng = random.Random(0)
    with tf.io.TFRecordWriter(str(root / "Split-test" / "data.gz"), "GZIP") as writer:
        for i in range(count):
            example = tf.train.Example()
            feature = example.features.feature
            feature["image"].bytes_list.value.append(draw_image(i % 2, rng))
            feature["label"].int64_list.value.append(i % 2)
            feature["image/filename"].bytes_list.value.append(f"pets/{i}.jpg".encode())
            writer.write(example.SerializeToString())
    return str(root)


class SmallModel(tf.Module):
    """The pipeline's three signatures over a model that scores an image by its mean red;
    `guarded`: the image guard of the real signatures, else every image is decoded."""

    def __init__(self, guarded: bool):
        super().__init__()
        self.guarded = guarded

    def _scores(self, images):
        problems = image_guard.problems(images, LIMIT)
        refused = problems != "" if self.guarded else tf.zeros_like(problems, tf.bool)
        safe = tf.where(refused, tf.constant(encoded("PNG", (1, 1))), images)
        red = tf.map_fn(
            lambda image: (
                tf.reduce_mean(tf.cast(tf.io.decode_image(image, 3)[..., 0], tf.float32)) / 255.0
            ),
            safe,
            fn_output_signature=tf.float32,
        )
        class_id = tf.cast(red >= 0.5, tf.int64)
        scores = {
            "probability": tf.where(refused, -1.0, red),
            "class_id": tf.where(refused, tf.constant(-1, tf.int64), class_id),
            "class_name": tf.where(refused, "", tf.gather(tf.constant(["cat", "dog"]), class_id)),
            "class_probability": tf.where(refused, -1.0, tf.maximum(red, 1.0 - red)),
        }
        return {**scores, "error": problems} if self.guarded else scores

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serving_default(self, examples):
        parsed = tf.io.parse_example(examples, {"image": tf.io.FixedLenFeature([], tf.string)})
        return self._scores(parsed["image"])

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    def serving_image_bytes(self, images):
        return self._scores(images)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(self, examples):
        parsed = tf.io.parse_example(examples, {"image": tf.io.FixedLenFeature([], tf.string)})
        return {"pixels": tf.strings.length(parsed["image"])}


def save(model: tf.Module, path) -> str:
    tf.saved_model.save(
        model,
        str(path),
        signatures={
            name: getattr(model, name).get_concrete_function()
            for name in ("serving_default", "serving_image_bytes", "transform_features")
        },
    )
    return str(path)


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> str:
    return write_test_split(tmp_path_factory.mktemp("examples"))


@pytest.fixture(scope="module")
def eval_config() -> str:
    from google.protobuf import json_format

    return json_format.MessageToJson(make_eval_config(EvaluationConfig(), num_classes=2))


def test_a_guarded_model_passes_and_its_warmup_requests_replay(tmp_path, examples, eval_config):
    model = save(SmallModel(guarded=True), tmp_path / "model")
    result = check_model(model, examples, "test", eval_config, str(tmp_path))
    assert result.passed, result.failures
    assert set(result.signatures) == set(requests.SIGNATURE_INPUTS)
    assert result.hostile_extra_rss_mb <= HOSTILE_MEMORY_MB
    logs = [
        prediction_log_pb2.PredictionLog.FromString(record.numpy())
        for record in tf.data.TFRecordDataset(str(tmp_path / requests.WARMUP_FILE))
    ]
    batches = [
        (log.predict_log.request.model_spec.signature_name, len(next(iter(
            log.predict_log.request.inputs.values())).string_val))
        for log in logs
    ]  # fmt: skip
    assert batches == [(name, n) for name in requests.SIGNATURE_INPUTS for n in (1, 4)]
    assert result.warmup_requests == 6 and result.warmup_bytes < 6 * 4 * requests.MAX_IMAGE_BYTES


def test_a_model_that_decodes_whatever_it_is_sent_fails(tmp_path, examples, eval_config):
    model = save(SmallModel(guarded=False), tmp_path / "model")
    result = check_model(model, examples, "test", eval_config, str(tmp_path))
    assert not result.passed
    assert set(result.signatures["serving_default"].split(":")[:1]) == {
        "a batch of a good image and hostile ones failed as a whole"
    }
    assert "InvalidArgumentError" in result.signatures["serving_image_bytes"]
    assert result.signatures["transform_features"] == "ok"


IMAGES = [requests.TestImage(f"pets/{i}.jpg", b"", b"") for i in range(2)]
REFERENCE = {
    "probability": np.array([0.25, 0.75], np.float32),
    "class_probability": np.array([0.75, 0.75], np.float32),
    "class_name": np.array(["cat", "dog"]),
}
HOSTILE = ["a good test image", "a bomb", "zero bytes"]


def probe_result(probability=(0.25, 0.75), hostile_errors=("", "bomb", "empty"), extra_mb=0):
    def scores(rows):
        return {
            "probability": list(probability)[:rows],
            "class_probability": [0.75, 0.75][:rows],
            "class_name": ["cat", "dog"][:rows],
        }

    hostile = {
        "outputs": {
            "probability": [0.25, -1.0, -1.0],
            "class_probability": [0.75, -1.0, -1.0],
            "class_name": ["cat", "", ""],
            "class_id": [0, -1, -1],
            "error": list(hostile_errors),
        }
    }
    return {
        "loaded_seconds": 1.0,
        "seconds": 2.0,
        "foreign_modules": [],
        "files": [
            {
                "replies": [
                    {"signature": "serving_default", "outputs": scores(1)},
                    {"signature": "serving_default", "outputs": scores(2)},
                ],
                "peak_rss_mb": 500,
            },
            {
                "replies": [{"signature": "serving_image_bytes", **hostile}],
                "peak_rss_mb": 500 + extra_mb,
            },
        ],
    }


def verdict(probe):
    return judge(probe, REFERENCE, IMAGES, [1, 2], HOSTILE)


def test_answers_equal_to_the_evaluators_pass():
    result = verdict(probe_result())
    assert result.passed and result.signatures == {
        "serving_default": "ok",
        "serving_image_bytes": "ok",
    }
    assert json.loads(result.to_json())["passed"]


def test_a_score_off_by_more_than_the_tolerance_names_signature_image_and_values():
    result = verdict(probe_result(probability=(0.25, 0.75 + 10 * TOLERANCE)))
    assert result.failures == [
        "serving_default: probability 0.750100 for pets/1.jpg, the Evaluator's 0.750000 "
        "(difference 0.0001 > 1e-05)"
    ]
    assert verdict(probe_result(probability=(0.25, 0.75 + TOLERANCE / 2))).passed


def test_an_accepted_hostile_image_or_a_memory_jump_fails():
    accepted = verdict(probe_result(hostile_errors=("", "", "empty")))
    assert accepted.failures == ["serving_image_bytes: accepted a bomb"]
    jump = verdict(probe_result(extra_mb=HOSTILE_MEMORY_MB + 1))
    assert "raised the server's peak memory by" in jump.failures[0]


def test_what_only_the_projects_environment_has_fails():
    probe = {**probe_result(), "foreign_modules": ["tensorflow_transform"]}
    assert verdict(probe).failures[0] == (
        "loading and calling the model imported tensorflow_transform: a model server has only "
        "TensorFlow"
    )
    broken = judge({"load_error": "NotFoundError: Op type not registered 'Foo'"}, {}, [], [], [])
    assert broken.failures == [
        "the model does not load in TensorFlow alone: NotFoundError: Op type not registered 'Foo'"
    ]
    assert broken.describe().startswith("failed: the model does not load")


def test_the_decompression_bomb_is_a_small_png_whose_data_inflates_to_the_declared_size():
    bomb = requests.png_declaring(20_000, 20_000)
    assert len(bomb) < 1_000_000
    with pytest.raises(Image.DecompressionBombError):  # Pillow recognises one too
        Image.open(io.BytesIO(bomb))
    (length,) = struct.unpack(">I", bomb[33:37])  # the IDAT chunk after the 25-byte IHDR
    assert bomb[37:41] == b"IDAT"
    inflate, inflated, data = zlib.decompressobj(), 0, bomb[41 : 41 + length]
    while data:  # streamed: never 400 MB at once
        inflated += len(inflate.decompress(data, 1 << 24))
        data = inflate.unconsumed_tail
    assert inflated == (20_000 + 1) * 20_000  # a filter byte and 20,000 pixels per row
