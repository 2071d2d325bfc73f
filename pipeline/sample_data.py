"""Generates the offline sample dataset, in the real TFDS format of cats_vs_dogs 4.0.1.

The real archive cannot be downloaded here, so the demo and the tests read a
small generated dataset through exactly the same TFDS code path
(`tfds.builder(name, data_dir=...)`). It has its own name,
`cats_vs_dogs_sample`, so it can never be mistaken for the real data.

The two classes are drawn to be learnable even by a head on a randomly
initialised (weights=None) Xception: "cats" are warm-coloured scenes with round
blobs, "dogs" cool-coloured scenes with stripes. Sizes and aspect ratios vary
like real photos, so Transform's resize is exercised.
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


def make_features() -> tfds.features.FeaturesDict:
    """The cats_vs_dogs 4.0.1 feature spec, field for field."""
    return tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(),
            "image/filename": tfds.features.Text(),
            "label": tfds.features.ClassLabel(names=list(CLASS_NAMES)),
        }
    )


def draw_image(label: int, rng: random.Random) -> bytes:
    """Returns the JPEG bytes of one generated picture of class `label` (0 cat, 1 dog)."""
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
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=rng.randint(60, 95))
    return buffer.getvalue()


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
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download: every image is generated
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        rng = random.Random(self._seed)
        for index in range(self._num_examples):
            label = index % 2
            folder = CLASS_NAMES[label].capitalize()
            yield (
                index,
                {
                    "image": draw_image(label, rng),
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
