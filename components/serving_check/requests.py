"""The requests of the serving check: real test-split images, and hostile ones.

Written as TF Serving's warmup file is (a TFRecord of `PredictionLog`s, protos of
`tensorflow-serving-api`), so the same file is replayed by the check and, inside each
pushed version (`assets.extra/tf_serving_warmup_requests`), by TF Serving as it loads
the version: its first real requests are then served by a warm model.
"""

from __future__ import annotations

import functools
import os
import struct
import zlib
from dataclasses import dataclass

import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from core import features, serving_layout

WARMUP_FILE = os.path.basename(serving_layout.WARMUP_FILE)  # the Pusher ships it there
# Each signature's one input, as make_serving_signatures names it.
SIGNATURE_INPUTS = {
    "serving_default": "examples",
    "serving_image_bytes": "images",
    "transform_features": "examples",
}
# The signatures that score an image (transform_features returns pixels).
SCORING_SIGNATURES = ("serving_default", "serving_image_bytes")
# Test images in the warmup requests: batches of 1 and of all of them, per signature.
IMAGES = 4
# An image larger than this is not taken into the warmup file (whose size stays bounded:
# IMAGES x 2 batches x 3 signatures x this, 3 MB at most).
MAX_IMAGE_BYTES = 128 * 1024


@dataclass(frozen=True)
class TestImage:
    """One raw test-split example: its name for messages, the tf.Example and its image."""

    name: str
    serialized: bytes
    image: bytes


def read_test_images(examples_uri: str, split: str, count: int = IMAGES) -> list[TestImage]:
    """The first `count` examples of `split` whose image is at most MAX_IMAGE_BYTES.

    Raises:
        ValueError: the split has no such example.
    """
    files = sorted(tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    images = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        example = tf.train.Example.FromString(record.numpy())
        feature = example.features.feature
        image = feature[features.IMAGE_KEY].bytes_list.value[0]
        if len(image) > MAX_IMAGE_BYTES:
            continue
        names = [feature[key].bytes_list.value for key in features.UNIQUE_KEYS if key in feature]
        name = next((value[0].decode() for value in names if value), f"example {len(images)}")
        images.append(TestImage(name, record.numpy(), image))
        if len(images) == count:
            break
    if not images:
        raise ValueError(
            f"no {split} example with an image of at most {MAX_IMAGE_BYTES} bytes in "
            f"{examples_uri}: the serving check needs one"
        )
    return images


def predict_log(signature: str, values: list[bytes]) -> prediction_log_pb2.PredictionLog:
    """A PredictRequest of `values` (a batch) to `signature`, as a PredictionLog."""
    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = signature
    request.inputs[SIGNATURE_INPUTS[signature]].CopyFrom(tf.make_tensor_proto(values))
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )


def inputs_of(signature: str, images: list[TestImage]) -> list[bytes]:
    """What `signature` takes of each image: the tf.Example, or the image bytes."""
    if SIGNATURE_INPUTS[signature] == "images":
        return [image.image for image in images]
    return [image.serialized for image in images]


def warmup_requests(images: list[TestImage]) -> list[tuple[prediction_log_pb2.PredictionLog, int]]:
    """(request, number of images) per signature: one image, then all of them."""
    batches = sorted({1, len(images)})
    return [
        (predict_log(signature, inputs_of(signature, images[:size])), size)
        for signature in SIGNATURE_INPUTS
        for size in batches
    ]


def hostile_images(good: bytes) -> dict[str, bytes]:
    """What an open endpoint is sent, by description, after one good image."""
    return {
        "a good test image": good,
        "a PNG declaring 20000x20000 pixels (decompression bomb)": png_declaring(20_000, 20_000),
        "the first half of the good image": good[: len(good) // 2],
        "zero bytes": b"",
        "an HTML page": b"<html><body><h1>404 Not Found</h1></body></html>",
        "a JPEG start marker and nothing else": b"\xff\xd8\xff" + b"\0" * 16,
    }


def hostile_requests(hostile: dict[str, bytes]) -> list[prediction_log_pb2.PredictionLog]:
    """The hostile batch to each scoring signature: raw, and inside tf.Examples."""
    return [
        predict_log("serving_image_bytes", list(hostile.values())),
        predict_log("serving_default", [raw_example(image) for image in hostile.values()]),
    ]


def raw_example(image_bytes: bytes) -> bytes:
    """A serialized tf.Example as ExampleGen writes the raw data: what `serving_default` takes."""
    example = tf.train.Example()
    example.features.feature[features.IMAGE_KEY].bytes_list.value.append(image_bytes)
    return example.SerializeToString()


@functools.cache
def png_declaring(width: int, height: int) -> bytes:
    """A small valid PNG that declares `width` x `height` 8-bit gray pixels; its data inflates
    to zero rows (a decompression bomb: 400 MB decoded for 20000x20000, 1.2 GB as RGB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    block = b"\0" * (width + 1) * 256  # 256 rows at a time: never the whole image in memory
    rows = b"".join(compressor.compress(block) for _ in range(height // 256))
    rows += compressor.compress(b"\0" * (width + 1) * (height % 256)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def write_requests(path: str, logs: list[prediction_log_pb2.PredictionLog]) -> int:
    """Writes the TFRecord file TF Serving replays; returns its size in bytes."""
    with tf.io.TFRecordWriter(path) as writer:
        for log in logs:
            writer.write(log.SerializeToString())
    return tf.io.gfile.stat(path).length
