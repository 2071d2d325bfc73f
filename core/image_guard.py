"""What an encoded image declares, read from its header in graph ops that cannot fail.

A model server decodes whatever bytes it is sent. A 2 MB PNG may declare 20,000 x
20,000 pixels: decoding it allocates 1.2 GB per channel set and takes half a minute,
and TensorFlow refuses only images past its int32 size limit. So the serving
signatures read each image's declared size and completeness first, and never
decode one that is refused (`problems`).

Why not `tf.io.extract_jpeg_shape`: it raises InvalidArgumentError on a malformed
header (a truncated file, text, zero bytes), and a graph cannot catch an error per
element: one bad image would fail the whole batch. Every read here is from the
image padded with zero bytes, at positions clamped into it, so no op can fail,
whatever the bytes.

Formats (the header fields, by the formats' specifications):
- JPEG: SOI `FF D8`; the first SOFn segment (C0-CF but C4, C8, CC) holds the height
  and width (big-endian, 16 bits each), found by walking the segments from the
  start; complete when an EOI marker `FF D9` is among its last bytes (cameras may
  append a few bytes after it).
- PNG: the 8-byte signature, then the IHDR chunk's width and height (big-endian,
  32 bits); complete when it ends with the IEND chunk.
- GIF: `GIF87a`/`GIF89a`, the logical screen's width and height (little-endian, 16
  bits); complete when it ends with the trailer `3B`.
- BMP: `BM`, a BITMAPINFOHEADER or later (40+ bytes) with width and height
  (little-endian, signed 32 bits: a negative height is a top-down image); complete
  when the file is at least as long as its header says.
"""

from __future__ import annotations

import tensorflow as tf

# Reads reach at most this far past a position: the image is padded by this many bytes.
_PAD = 64
# JPEG segments walked before the frame header; real files have fewer than 20.
_MAX_JPEG_SEGMENTS = 64
# The JPEG end-of-image marker is looked for among the last bytes.
_JPEG_TAIL = 32

NOT_AN_IMAGE = "not a JPEG, PNG, GIF or BMP image"
# What a signature answers for a refused image, beside its `error`: no class, and scores no
# probability can have (-1, not NaN: JSON has no NaN, and TF Serving's REST API is JSON).
REFUSED_CLASS_ID = -1
REFUSED_SCORE = -1.0


def problems(images: tf.Tensor, max_pixels: int) -> tf.Tensor:
    """Why each image must not be decoded; "" for one that may.

    Args:
        images: a batch of encoded images, a string tensor of shape [n].
        max_pixels: the largest width x height accepted.

    Returns:
        A string tensor of shape [n]: "" or a sentence such as "the image declares
        20000x20000 pixels, above the limit of 25000000".
    """
    images = tf.reshape(images, [-1])
    padded = tf.strings.join([tf.fill(tf.shape(images), "\0" * _PAD), images, _zeros(images)])
    length = tf.cast(tf.strings.length(images), tf.int64)
    head = _bytes_at(padded, tf.fill(tf.shape(images), tf.constant(_PAD, tf.int64)), _PAD)
    formats = {
        "JPEG": _jpeg(padded, length, head),
        "PNG": _png(padded, length, head),
        "GIF": _gif(padded, length, head),
        "BMP": _bmp(length, head),
    }
    problem = tf.fill(tf.shape(images), NOT_AN_IMAGE)
    for name, (matches, width, height, complete) in formats.items():
        pixels = width * height
        found = tf.where(
            ~complete,
            f"truncated {name} file (it ends before its last section)",
            tf.where(
                (width <= 0) | (height <= 0),
                f"the {name} header declares no pixels",
                tf.where(
                    pixels > max_pixels,
                    tf.strings.join(
                        [
                            "the image declares ",
                            tf.strings.as_string(width),
                            "x",
                            tf.strings.as_string(height),
                            f" pixels, above the limit of {max_pixels}",
                        ]
                    ),
                    "",
                ),
            ),
        )
        problem = tf.where(matches, found, problem)
    # [n], not of unknown shape: TF Serving's REST row format needs every output batched.
    return tf.reshape(tf.where(length == 0, "empty (zero bytes)", problem), [-1])


def _zeros(images: tf.Tensor) -> tf.Tensor:
    return tf.fill(tf.shape(images), "\0" * _PAD)


def _bytes_at(padded: tf.Tensor, position: tf.Tensor, count: int) -> tf.Tensor:
    """[n, count] int64: the bytes of each padded image at its position (clamped in)."""
    last_start = tf.cast(tf.strings.length(padded), tf.int64) - count
    start = tf.clip_by_value(position, tf.zeros_like(last_start), last_start)
    chunk = tf.strings.substr(
        padded, start, tf.fill(tf.shape(padded), tf.constant(count, tf.int64))
    )
    return tf.cast(tf.io.decode_raw(chunk, tf.uint8), tf.int64)


def _starts_with(head: tf.Tensor, signature: bytes) -> tf.Tensor:
    return tf.reduce_all(head[:, : len(signature)] == list(signature), axis=1)


def _big_endian(head: tf.Tensor, start: int, size: int) -> tf.Tensor:
    value = tf.zeros_like(head[:, 0])
    for offset in range(size):
        value = value * 256 + head[:, start + offset]
    return value


def _little_endian(head: tf.Tensor, start: int, size: int) -> tf.Tensor:
    value = tf.zeros_like(head[:, 0])
    for offset in reversed(range(size)):
        value = value * 256 + head[:, start + offset]
    return value


def _tail(padded: tf.Tensor, length: tf.Tensor, count: int) -> tf.Tensor:
    """[n, count]: each image's last `count` bytes (zeros before a shorter image)."""
    return _bytes_at(padded, _PAD + length - count, count)


def _ends_with(padded: tf.Tensor, length: tf.Tensor, ending: bytes) -> tf.Tensor:
    return tf.reduce_all(_tail(padded, length, len(ending)) == list(ending), axis=1)


def _jpeg(padded, length, head):
    matches = _starts_with(head, b"\xff\xd8\xff")
    batch = tf.shape(padded)

    def walk(position, width, height, done):
        segment = _bytes_at(padded, _PAD + position, 9)
        marker = segment[:, 1]
        is_frame = (
            (marker >= 0xC0)
            & (marker <= 0xCF)
            & ~tf.reduce_any(marker[:, None] == [0xC4, 0xC8, 0xCC], axis=1)
        )
        standalone = ((marker >= 0xD0) & (marker <= 0xD7)) | (marker == 0x01)
        lost = (segment[:, 0] != 0xFF) | (position + 4 > length)
        finished = done | is_frame | lost
        height = tf.where(done, height, tf.where(is_frame & ~lost, _big_endian(segment, 5, 2), 0))
        width = tf.where(done, width, tf.where(is_frame & ~lost, _big_endian(segment, 7, 2), 0))
        step = tf.where(
            marker == 0xFF,  # a fill byte before the marker
            tf.ones_like(position),
            tf.where(standalone, 2 * tf.ones_like(position), 2 + _big_endian(segment, 2, 2)),
        )
        return tf.where(finished, position, position + step), width, height, finished

    zeros = tf.zeros(batch, tf.int64)
    _, width, height, _ = tf.while_loop(
        lambda position, width, height, done: ~tf.reduce_all(done),
        walk,
        (zeros + 2, zeros, zeros, ~matches),
        shape_invariants=(tf.TensorShape([None]),) * 4,
        maximum_iterations=_MAX_JPEG_SEGMENTS,
    )
    tail = _tail(padded, length, _JPEG_TAIL)
    complete = tf.reduce_any((tail[:, :-1] == 0xFF) & (tail[:, 1:] == 0xD9), axis=1)
    return matches, width, height, complete


def _png(padded, length, head):
    matches = _starts_with(head, b"\x89PNG\r\n\x1a\n")
    complete = _ends_with(padded, length, b"IEND\xaeB`\x82")
    return matches, _big_endian(head, 16, 4), _big_endian(head, 20, 4), complete


def _gif(padded, length, head):
    matches = _starts_with(head, b"GIF87a") | _starts_with(head, b"GIF89a")
    complete = _ends_with(padded, length, b"\x3b")
    return matches, _little_endian(head, 6, 2), _little_endian(head, 8, 2), complete


def _bmp(length, head):
    matches = _starts_with(head, b"BM")
    declared_length = _little_endian(head, 2, 4)
    info_header = _little_endian(head, 14, 4) >= 40
    width = _signed(_little_endian(head, 18, 4))
    height = tf.abs(_signed(_little_endian(head, 22, 4)))
    complete = length >= declared_length
    # An old 12-byte BITMAPCOREHEADER is refused as declaring no pixels.
    return matches, tf.where(info_header, width, 0), height, complete


def _signed(value: tf.Tensor) -> tf.Tensor:
    """A 32-bit two's complement value read as unsigned -> signed."""
    return tf.where(value >= 2**31, value - 2**32, value)
