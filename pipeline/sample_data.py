"""Generates the offline sample dataset, in the real TFDS format of cats_vs_dogs 4.0.1.

The real archive cannot be downloaded here, so the demo and the tests read a
small generated dataset through exactly the same TFDS code path
(`tfds.builder(name, data_dir=...)`). It has its own name,
`cats_vs_dogs_sample`, so it can never be mistaken for the real data.

The two classes are drawn to be learnable even by a head on a randomly
initialised (weights=None) Xception: "cats" are warm-coloured scenes with round
blobs, "dogs" cool-coloured scenes with stripes. Sizes (100-500 px a side),
aspect ratios and JPEG quality vary like real photos, so Transform's resize is
exercised. With `photo_sizes`, images are instead drawn at the real photos'
dimensions (long side mostly 500, aspect about 4:3, median 500x375) with a
grain that brings their JPEGs to the real files' 20-40 KB: the full-size data
path benchmark (benchmarks/data_path.py) runs on 23,262 of them.

Like the real archive, a few files are not clean RGB JPEGs (see
`planted_defects`): grayscale, CMYK, RGBA and PNG images under .jpg names, and
a handful that cannot be used at all (zero bytes, truncated, an HTML error page,
an image too large to decode). ExampleGen must convert or skip each of them.
"""

from __future__ import annotations

import colorsys
import functools
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


# N classes are N hue bands around the colour wheel, named after the hue at their centre.
HUE_NAMES = (
    "red", "orange", "yellow", "chartreuse", "green", "spring_green",
    "cyan", "azure", "blue", "violet", "magenta", "rose",
)  # fmt: skip


def class_names(num_classes: int = 2) -> tuple[str, ...]:
    """cat and dog for two classes; for more, the colour of each class's hue band (red,
    green, blue for three), or class_0 .. class_<N-1> past twelve."""
    if num_classes == 2:
        return CLASS_NAMES
    if num_classes > len(HUE_NAMES):
        return tuple(f"class_{i}" for i in range(num_classes))
    return tuple(HUE_NAMES[round(i * len(HUE_NAMES) / num_classes)] for i in range(num_classes))


def make_features(num_classes: int = 2) -> tfds.features.FeaturesDict:
    """The cats_vs_dogs 4.0.1 feature spec, field for field (N classes: N label names)."""
    return tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(),
            "image/filename": tfds.features.Text(),
            "label": tfds.features.ClassLabel(names=list(class_names(num_classes))),
        }
    )


def planted_defects(num_examples: int) -> dict[int, str]:
    """Example index -> the defect planted there, for a dataset of `num_examples`."""
    return {int(fraction * num_examples): kind for fraction, kind in _DEFECT_FRACTIONS.items()}


def draw_image(
    label: int, rng: random.Random, num_classes: int = 2, photo_sizes: bool = False
) -> bytes:
    """Returns the JPEG bytes of one generated picture of class `label` (0 cat, 1 dog).

    `photo_sizes`: dimensions and file size like the real photos (see module doc).
    """
    if not photo_sizes:
        return _encode(_draw(label, rng, num_classes), "JPEG", quality=rng.randint(60, 95))
    image = _draw(label, rng, num_classes, _photo_size(rng))
    grain = _grain()
    x, y = rng.randrange(grain.width - image.width), rng.randrange(grain.height - image.height)
    image = Image.blend(image, grain.crop((x, y, x + image.width, y + image.height)), 0.25)
    return _encode(image, "JPEG", quality=rng.randint(72, 82))


def _photo_size(rng: random.Random) -> tuple[int, int]:
    """(width, height) drawn like cats_vs_dogs: long side mostly 500, aspect ~4:3."""
    long_side = MAX_SIDE if rng.random() < 0.8 else rng.randint(250, MAX_SIDE - 1)
    short_side = round(long_side * rng.uniform(0.6, 0.9))
    return (long_side, short_side) if rng.random() < 0.75 else (short_side, long_side)


@functools.cache
def _grain() -> Image.Image:
    """Gaussian RGB noise, made once: photos' texture is what makes their JPEGs 20-40 KB."""
    return Image.merge("RGB", [Image.effect_noise((700, 700), 40) for _ in range(3)])


def draw_defective_image(
    label: int, defect: str, rng: random.Random, num_classes: int = 2
) -> bytes:
    """The encoded bytes of a picture of class `label` spoilt by `defect` (see module doc)."""
    if defect == EMPTY:
        return b""
    if defect == HTML:
        return b"<html><body><h1>404 Not Found</h1></body></html>\n"
    if defect == OVERSIZED:
        return _encode(Image.new("1", OVERSIZED_SIZE), "PNG")
    image = _draw(label, rng, num_classes)
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


def _draw(
    label: int, rng: random.Random, num_classes: int = 2, size: tuple[int, int] | None = None
) -> Image.Image:
    width, height = size or (rng.randint(MIN_SIDE, MAX_SIDE), rng.randint(MIN_SIDE, MAX_SIDE))
    if num_classes == 2:
        hue = rng.uniform(0.0, 0.12) if label == 0 else rng.uniform(0.5, 0.68)
    else:  # N classes: N hue bands around the colour wheel, blobs and stripes alternating
        hue = label / num_classes + rng.uniform(-0.25 / num_classes, 0.25 / num_classes)
    background = _rgb(hue, rng.uniform(0.3, 0.8), rng.uniform(0.4, 0.9))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 8)):
        colour = _rgb(hue + rng.uniform(-0.05, 0.05), rng.uniform(0.5, 1.0), rng.uniform(0.2, 1.0))
        x, y = rng.randrange(width), rng.randrange(height)
        size = rng.randint(10, max(11, min(width, height) // 3))
        if label % 2 == 0:
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

    NUM_CLASSES = 2

    def __init__(
        self, *, num_examples: int = 600, seed: int = 0, photo_sizes: bool = False, **kwargs
    ):
        self._num_examples = num_examples
        self._seed = seed
        self._photo_sizes = photo_sizes
        super().__init__(**kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description="Generated two-class images in the cats_vs_dogs 4.0.1 format.",
            features=make_features(self.NUM_CLASSES),
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
            label = index % self.NUM_CLASSES
            folder = class_names(self.NUM_CLASSES)[label].capitalize()
            image = (
                draw_defective_image(label, defects[index], rng, self.NUM_CLASSES)
                if index in defects
                else draw_image(label, rng, self.NUM_CLASSES, self._photo_sizes)
            )
            yield (
                index,
                {
                    "image": image,
                    "image/filename": f"PetImages/{folder}/{index}.jpg",
                    "label": label,
                },
            )


def is_prepared(data_dir: str, dataset_name: str = SAMPLE_DATASET_NAME) -> bool:
    """True when a sample dataset already exists under `data_dir`."""
    return os.path.isfile(
        os.path.join(data_dir, dataset_name, str(CatsVsDogsSample.VERSION), "dataset_info.json")
    )


_BUILDERS: dict[tuple[str, int], type[CatsVsDogsSample]] = {}


def sample_builder_class(dataset_name: str, num_classes: int) -> type[CatsVsDogsSample]:
    """The builder of an N-class sample named `dataset_name` (TFDS names builders by class)."""
    if (dataset_name, num_classes) == (SAMPLE_DATASET_NAME, 2):
        return CatsVsDogsSample
    key = (dataset_name, num_classes)
    if key not in _BUILDERS:  # TFDS registers each builder class once per process
        _BUILDERS[key] = type(
            f"Sample_{dataset_name}_{num_classes}",
            (CatsVsDogsSample,),
            {"name": dataset_name, "NUM_CLASSES": num_classes, "__module__": __name__},
        )
    return _BUILDERS[key]


def generate_sample_dataset(
    data_dir: str,
    num_examples: int = 600,
    seed: int = 0,
    num_classes: int = 2,
    dataset_name: str = SAMPLE_DATASET_NAME,
    photo_sizes: bool = False,
) -> str:
    """Writes the sample dataset (N classes, any name) under `data_dir`; returns its directory.

    `photo_sizes`: images as large as the real photos (see module doc), not the small default.
    """
    builder_class = sample_builder_class(dataset_name, num_classes)
    builder = builder_class(
        data_dir=data_dir, num_examples=num_examples, seed=seed, photo_sizes=photo_sizes
    )
    builder.download_and_prepare(
        file_format="tfrecord",
        download_config=tfds.download.DownloadConfig(try_download_gcs=False),
    )
    return os.fspath(builder.data_path)
