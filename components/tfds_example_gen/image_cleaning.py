"""Validates one encoded image and makes it RGB, or says why it must be skipped.

Real image archives hold files that crash a training run hours in: zero-byte
files, truncated downloads, HTML pages saved as .jpg, PNG/CMYK/grayscale images
under .jpg names. ExampleGen runs every image through `clean_image` once, so
Transform and Trainer can assume 3-channel images that decode.

Valid RGB JPEGs are passed through byte for byte (no re-encoding loss); all
other decodable images become lossless RGB PNGs of `core.images.to_rgb`, the
same function serving runs on raw uploads, so a served RGBA/grayscale/CMYK/PNG
image gets exactly the pixels of its cleaned training example. The output is
deterministic.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import tensorflow as tf
from PIL import Image

from core import images

OK = "ok"
# Converted to RGB (the example is kept). One reason per image: the colour
# mode wins over the container format, e.g. a grayscale PNG counts as grayscale.
GRAYSCALE = "grayscale"
RGBA = "rgba"
CMYK = "cmyk"
PALETTE = "palette"
OTHER_MODE = "other_mode"
NOT_JPEG = "not_jpeg"  # an RGB PNG/GIF/BMP/WebP, typically under a .jpg name
CONVERTED_REASONS = (GRAYSCALE, RGBA, CMYK, PALETTE, OTHER_MODE, NOT_JPEG)
# Skipped (the example is dropped).
EMPTY = "empty"
UNDECODABLE = "undecodable"
TRUNCATED = "truncated"
OVERSIZED = "oversized"
SKIPPED_REASONS = (EMPTY, UNDECODABLE, TRUNCATED, OVERSIZED)

# Our own size limit applies (`max_pixels`); PIL's warning would only repeat it. Set once
# for the process: ExampleGen cleans images on several threads, and `catch_warnings` is not
# thread-safe.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

# What TensorFlow (so serving) decodes; other formats PIL reads (WebP, TIFF...) are first
# rewritten as lossless RGBA PNG, then go through the same `to_rgb`.
_TF_FORMATS = ("JPEG", "MPO", "PNG", "GIF", "BMP")
_MODE_REASONS = {
    "1": GRAYSCALE,
    "L": GRAYSCALE,
    "I": GRAYSCALE,
    "I;16": GRAYSCALE,
    "F": GRAYSCALE,
    "LA": RGBA,
    "RGBA": RGBA,
    "PA": RGBA,
    "CMYK": CMYK,
    "P": PALETTE,
}


@dataclass(frozen=True)
class CleanedImage:
    """The outcome for one image: `encoded` is None exactly when the image is skipped."""

    encoded: bytes | None  # an RGB JPEG (as it came) or an RGB PNG (converted)
    reason: str

    @property
    def skipped(self) -> bool:
        return self.encoded is None


def clean_image(encoded: bytes, max_pixels: int) -> CleanedImage:
    """Returns the image as RGB JPEG/PNG bytes with why it was changed, or why it is skipped.

    The pixel count is checked from the header, before any pixel is decoded, so
    a decompression bomb costs nothing.
    """
    if not encoded:
        return CleanedImage(None, EMPTY)
    try:
        image = Image.open(io.BytesIO(encoded))
    except Image.DecompressionBombError:
        return CleanedImage(None, OVERSIZED)
    except OSError as error:
        return CleanedImage(None, _read_error_reason(error))
    except (SyntaxError, ValueError):
        return CleanedImage(None, UNDECODABLE)
    width, height = image.size
    if width * height > max_pixels:
        return CleanedImage(None, OVERSIZED)
    if width == 0 or height == 0:
        return CleanedImage(None, EMPTY)
    if image.format in ("JPEG", "MPO"):
        # A JPEG's pixels are never used here (it is kept as it came, or converted from its
        # bytes by TensorFlow), only whether it decodes: at 1/8 scale libjpeg still reads
        # every entropy-coded byte, so a truncated or corrupt file fails exactly as in a full
        # decode, at half the cost (benchmarks/data_path.py). The mode is left as it is.
        image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
    try:
        image.load()
    except OSError as error:
        return CleanedImage(None, _read_error_reason(error))
    except (SyntaxError, ValueError):
        return CleanedImage(None, UNDECODABLE)
    # MPO is how PIL names the multi-picture JPEGs many cameras write; TF decodes them as JPEG.
    if image.mode == "RGB" and image.format in ("JPEG", "MPO"):
        return CleanedImage(encoded, OK)
    reason = _MODE_REASONS.get(image.mode, NOT_JPEG if image.mode == "RGB" else OTHER_MODE)
    if image.format not in _TF_FORMATS:
        encoded = _encode_png(image.convert("RGBA"))
    return CleanedImage(_to_rgb_png(encoded), reason)


def _read_error_reason(error: OSError) -> str:
    """PIL says 'truncated' when the data ends early, in the header or in the pixels."""
    return TRUNCATED if "truncated" in str(error).lower() else UNDECODABLE


def _encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _to_rgb_png(encoded: bytes) -> bytes:
    """The RGB pixels `core.images.to_rgb` gives (serving runs the same function), as a
    lossless PNG: the training example holds exactly the pixels a served image gets."""
    return tf.io.encode_png(images.to_rgb(tf.constant(encoded))).numpy()
