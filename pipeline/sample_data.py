"""Generates the offline sample dataset, in the real TFDS format of cats_vs_dogs 4.0.1.

The real archive cannot be downloaded here, so the demo and the tests read a
small generated dataset through exactly the same TFDS code path
(`tfds.builder(name, data_dir=...)`). It has its own name,
`cats_vs_dogs_sample`, so it can never be mistaken for the real data.

The two classes are drawn to be learnable even by a head on a randomly
initialised (weights=None) Xception: "cats" are warm-coloured scenes with round
blobs, "dogs" cool-coloured scenes with stripes. Sizes (100-500 px a side),
aspect ratios and JPEG quality vary like real photos, so Transform's resize is
exercised.

Like the real archive, a few files are not clean RGB JPEGs (see
`planted_defects`): grayscale, CMYK, RGBA and PNG images under .jpg names, and
a handful that cannot be used at all (zero bytes, truncated, an HTML error page,
an image too large to decode). ExampleGen must convert or skip each of them.
"""

from __future__ import annotations

import colorsys
import io
import os
import random

import tensorflow_datasets as tfds
from PIL import Image, ImageDraw

SAMPLE_DATASET_NAME = "cats_vs_dogs_sample"
CLASS_NAMES = ("cat", "dog")
MIN_SIDE, MAX_SIDE = 100, 500

# Planted defects, at fixed fractions of the dataset so that each of the
# default splits (train[:40%], train[40%:50%], train[50%:60%]) gets some.
GRAYSCALE, PNG, CMYK, RGBA = "grayscale", "png", "cmyk", "rgba"
EMPTY, TRUNCATED, HTML, OVERSIZED = "empty", "truncated", "html", "oversized"
_DEFECT_FRACTIONS = {
    0.02: GRAYSCALE,
    0.05: EMPTY,
    0.08: PNG,
    0.12: GRAYSCALE,
    0.15: TRUNCATED,
    0.18: CMYK,
    0.25: HTML,
    0.28: RGBA,
    0.35: OVERSIZED,
    0.43: GRAYSCALE,
    0.45: TRUNCATED,
    0.47: CMYK,
    0.52: PNG,
    0.55: HTML,
    0.57: GRAYSCALE,
    0.75: RGBA,
}
# Larger than any sensible --max-image-pixels: 30 megapixels in a 4 KB PNG.
OVERSIZED_SIZE = (6000, 5000)


def make_features() -> tfds.features.FeaturesDict:
    """The cats_vs_dogs 4.0.1 feature spec, field for field."""
    return tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(),
            "image/filename": tfds.features.Text(),
            "label": tfds.features.ClassLabel(names=list(CLASS_NAMES)),
        }
    )


def planted_defects(num_examples: int) -> dict[int, str]:
    """Example index -> the defect planted there, for a dataset of `num_examples`."""
    return {int(fraction * num_examples): kind for fraction, kind in _DEFECT_FRACTIONS.items()}


def draw_image(label: int, rng: random.Random) -> bytes:
    """Returns the JPEG bytes of one generated picture of class `label` (0 cat, 1 dog)."""
    return _encode(_draw(label, rng), "JPEG", quality=rng.randint(60, 95))


def draw_defective_image(label: int, defect: str, rng: random.Random) -> bytes:
    """The encoded bytes of a picture of class `label` spoilt by `defect` (see module doc)."""
    if defect == EMPTY:
        return b""
    if defect == HTML:
        return b"<html><body><h1>404 Not Found</h1></body></html>\n"
    if defect == OVERSIZED:
        return _encode(Image.new("1", OVERSIZED_SIZE), "PNG")
    image = _draw(label, rng)
    if defect == TRUNCATED:
        jpeg = _encode(image, "JPEG", quality=90)
        return jpeg[: len(jpeg) // 2]
    if defect == GRAYSCALE:
        return _encode(image.convert("L"), "JPEG", quality=90)
    if defect == CMYK:
        return _encode(image.convert("CMYK"), "JPEG", quality=90)
    if defect == PNG:
        return _encode(image, "PNG")
    if defect == RGBA:
        rgba = image.convert("RGBA")
        rgba.putalpha(200)
        return _encode(rgba, "PNG")
    raise ValueError(f"unknown defect {defect!r}")


def _encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _draw(label: int, rng: random.Random) -> Image.Image:
    width, height = rng.randint(MIN_SIDE, MAX_SIDE), rng.randint(MIN_SIDE, MAX_SIDE)
    hue = rng.uniform(0.0, 0.12) if label == 0 else rng.uniform(0.5, 0.68)
    background = _rgb(hue, rng.uniform(0.3, 0.8), rng.uniform(0.4, 0.9))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 8)):
        colour = _rgb(hue + rng.uniform(-0.05, 0.05), rng.uniform(0.5, 1.0), rng.uniform(0.2, 1.0))
        x, y = rng.randrange(width), rng.randrange(height)
        size = rng.randint(10, max(11, min(width, height) // 3))
        if label == 0:
            draw.ellipse((x - size, y - size, x + size, y + size), fill=colour)
        else:
            draw.rectangle((x - size, 0, x + size // 3, height), fill=colour)
    return image


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return int(r * 255), int(g * 255), int(b * 255)


class CatsVsDogsSample(tfds.core.GeneratorBasedBuilder):
    """A generated stand-in for cats_vs_dogs with the same version, features and split."""

    VERSION = tfds.core.Version("4.0.1")

    def __init__(self, *, num_examples: int = 600, seed: int = 0, **kwargs):
        self._num_examples = num_examples
        self._seed = seed
        super().__init__(**kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description="Generated two-class images in the cats_vs_dogs 4.0.1 format.",
            features=make_features(),
            supervised_keys=("image", "label"),
            # Keep generation order, so the planted defects sit at their fractions
            # of the dataset and each split's share of them is known.
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download: every image is generated
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        rng = random.Random(self._seed)
        defects = planted_defects(self._num_examples)
        for index in range(self._num_examples):
            label = index % 2
            folder = CLASS_NAMES[label].capitalize()
            image = (
                draw_defective_image(label, defects[index], rng)
                if index in defects
                else draw_image(label, rng)
            )
            yield (
                index,
                {
                    "image": image,
                    "image/filename": f"PetImages/{folder}/{index}.jpg",
                    "label": label,
                },
            )


def is_prepared(data_dir: str) -> bool:
    """True when a sample dataset already exists under `data_dir`."""
    return os.path.isfile(
        os.path.join(
            data_dir, SAMPLE_DATASET_NAME, str(CatsVsDogsSample.VERSION), "dataset_info.json"
        )
    )


def generate_sample_dataset(data_dir: str, num_examples: int = 600, seed: int = 0) -> str:
    """Writes the sample dataset under `data_dir` and returns its directory."""
    builder = CatsVsDogsSample(data_dir=data_dir, num_examples=num_examples, seed=seed)
    builder.download_and_prepare(
        file_format="tfrecord",
        download_config=tfds.download.DownloadConfig(try_download_gcs=False),
    )
    return os.fspath(builder.data_path)
