"""Folders of photos as a user has them: one folder per class, JPEG and PNG files on disk."""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from pipeline.sample_data import draw_image


def write_photo_folder(
    root: Path,
    classes: Sequence[str],
    per_class: dict[str, int],
    seed: int = 0,
    png_every: int = 4,
) -> Path:
    """Writes `root/<split>/<class>/<n>.jpg` (or `root/<class>/...` for the split "").

    Class k's pictures are the generated sample's class k. Every `png_every`-th image
    is a PNG, so both formats a camera or a screenshot gives travel the whole way.

    Args:
        per_class: images per class, by split folder ("" for the flat layout).
    """
    rng = random.Random(seed)
    for split, count in per_class.items():
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                jpeg = draw_image(label, rng, num_classes=len(classes))
                if png_every and i % png_every == png_every - 1:
                    png = io.BytesIO()
                    Image.open(io.BytesIO(jpeg)).save(png, format="PNG")
                    (folder / f"{i}.png").write_bytes(png.getvalue())
                else:
                    (folder / f"{i}.jpg").write_bytes(jpeg)
    return root
