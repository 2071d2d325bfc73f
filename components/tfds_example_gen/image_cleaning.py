"""Validates one encoded image and turns it into an RGB JPEG, or says why it must be skipped.

Real image archives hold files that crash a training run hours in: zero-byte
files, truncated downloads, HTML pages saved as .jpg, PNG/CMYK/grayscale images
under .jpg names. ExampleGen runs every image through `clean_image` once, so
Transform and Trainer can assume 3-channel JPEGs that decode.

Valid RGB JPEGs are passed through byte for byte (no re-encoding loss); all
other decodable images are re-encoded at a fixed quality, so the output is
deterministic.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

OK = "ok"
# Converted to RGB JPEG (the example is kept). One reason per image: the colour
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

JPEG_QUALITY = 95
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
    """The outcome for one image: `jpeg` is None exactly when the image is skipped."""

    jpeg: bytes | None
    reason: str

    @property
    def skipped(self) -> bool:
        return self.jpeg is None


def clean_image(encoded: bytes, max_pixels: int) -> CleanedImage:
    """Returns the image as RGB JPEG bytes with the reason it was changed, or why it is skipped.

    The pixel count is checked from the header, before any pixel is decoded, so
    a decompression bomb costs nothing.
    """
    if not encoded:
        return CleanedImage(None, EMPTY)
    with warnings.catch_warnings():
        # Our own size limit applies; PIL's DecompressionBombWarning would only repeat it.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
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
    return CleanedImage(_to_rgb_jpeg(image), reason)


def _read_error_reason(error: OSError) -> str:
    """PIL says 'truncated' when the data ends early, in the header or in the pixels."""
    return TRUNCATED if "truncated" in str(error).lower() else UNDECODABLE


def _to_rgb_jpeg(image: Image.Image) -> bytes:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent pixels become white, as a browser shows them, not black.
        rgba = image.convert("RGBA")
        rgb = Image.new("RGB", rgba.size, (255, 255, 255))
        rgb.paste(rgba, mask=rgba.getchannel("A"))
    else:
        rgb = image.convert("RGB")
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()
