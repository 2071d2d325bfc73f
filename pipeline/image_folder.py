"""`--image-folder DIR`: your own photos as a TFDS dataset, and what the folder tells of them.

Two layouts, both one folder per class (its name is the class name):

- `DIR/<split>/<class>/<image>`: splits named `train`, `test` and `eval` (or
  `validation`, `val`). A split the folder lacks is carved from `train`: the last
  `--eval-fraction` of it for `eval`, the `--test-fraction` before that for `test`;
- `DIR/<class>/<image>`: one pool, carved into train/eval/test by the same
  fractions (80/10/10 by default).

Images are `.jpg`, `.jpeg` or `.png` files (what TFDS's ImageFolder reads); other files
are ignored. Each split's images are written, bytes untouched, in a deterministic order:
each class's files shuffled by a hash of their path and spread evenly over the split, so
a carved split gets every class in its share, not the last folder's. TfdsExampleGen then
reads the dataset like any other (the same checks, counts, class names).

The folder answers what would otherwise be flags: the dataset name (from the folder's
name, never one of a dataset not made from a folder), the number and names of the
classes, the model name (the dataset's), and the split strings. A flag given that
disagrees with the folder is an error naming both.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass

from core.config import ConfigError, PipelineConfig

VERSION = "1.0.0"
# Written next to the prepared dataset: only a dataset made from a folder is ever rebuilt.
MARKER_FILE = "image_folder.json"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
# Folder names of the splits a folder may hold, by the split they fill.
SPLIT_FOLDERS = {"train": ("train",), "eval": ("eval", "validation", "val"), "test": ("test",)}
SPLIT_ORDER = tuple(name for names in SPLIT_FOLDERS.values() for name in names)  # as printed
LAYOUT_HELP = (
    "lay them out as DIR/<class>/<image>.jpg|.jpeg|.png (split 80/10/10), or "
    "DIR/train/<class>/..., DIR/test/<class>/... (eval carved from train)"
)


class ImageFolderError(ValueError):
    """The folder cannot become a dataset; the message says why and what to do."""


@dataclass(frozen=True)
class FolderLayout:
    """What a folder holds: per TFDS split (folder name), per class, its image files."""

    root: str
    images: dict[str, dict[str, list[str]]]  # split folder -> class -> paths relative to root
    flat: bool  # DIR/<class>/<image>: one pool, written as the split "train"

    @property
    def class_names(self) -> list[str]:
        return sorted({name for classes in self.images.values() for name in classes})

    def count(self, split: str) -> int:
        return sum(len(files) for files in self.images[split].values())


def read_layout(image_folder: str) -> FolderLayout:
    """Reads a folder's splits, classes and images, or says what is wrong with it.

    Raises:
        ImageFolderError: no such folder; no class folders; a class folder without
            an image; a split folder without any.
    """
    if not os.path.isdir(image_folder):
        raise ImageFolderError(f"--image-folder {image_folder}: no such directory")
    subfolders = sorted(
        name
        for name in os.listdir(image_folder)
        if os.path.isdir(os.path.join(image_folder, name)) and not name.startswith(".")
    )
    split_names = {name for names in SPLIT_FOLDERS.values() for name in names}
    if set(subfolders) & split_names and not set(subfolders) <= split_names:
        raise ImageFolderError(
            f"--image-folder {image_folder}: split folders "
            f"({', '.join(sorted(set(subfolders) & split_names))}) beside other folders "
            f"({', '.join(sorted(set(subfolders) - split_names))}); {LAYOUT_HELP}"
        )
    if subfolders and set(subfolders) <= split_names:
        images = {split: _classes(image_folder, split) for split in subfolders}
        for split, classes in images.items():
            if not any(classes.values()):
                raise ImageFolderError(
                    f"--image-folder {image_folder}: the split folder {split}/ has no images; "
                    f"{LAYOUT_HELP}"
                )
        layout = FolderLayout(image_folder, images, flat=False)
        if "train" not in images:
            raise ImageFolderError(
                f"--image-folder {image_folder}: split folders {', '.join(subfolders)} but no "
                "train/; the model needs one to learn from"
            )
    else:
        layout = FolderLayout(image_folder, {"train": _classes(image_folder, "")}, flat=True)
    classes = layout.class_names
    loose = [name for name in os.listdir(image_folder) if name.lower().endswith(IMAGE_EXTENSIONS)]
    if not classes and loose:
        raise ImageFolderError(
            f"--image-folder {image_folder}: {len(loose)} images but no class folders; the "
            f"folder a picture is in is its class: {LAYOUT_HELP}"
        )
    if not classes or not any(layout.count(split) for split in layout.images):
        raise ImageFolderError(f"--image-folder {image_folder}: no images found; {LAYOUT_HELP}")
    for split, by_class in layout.images.items():
        empty = sorted(
            name
            for name, files in by_class.items()
            if not any(_looks_like_an_image(os.path.join(image_folder, path)) for path in files)
        )
        if empty:
            where = f"{split}/" if not layout.flat else ""
            raise ImageFolderError(
                f"--image-folder {image_folder}: the class folder{'s' if len(empty) > 1 else ''} "
                f"{', '.join(where + name + '/' for name in empty)} "
                f"{'have' if len(empty) > 1 else 'has'} no usable image (a JPEG or PNG file "
                "named .jpg, .jpeg or .png): add images or remove the folder"
            )
    if len(classes) < 2:
        raise ImageFolderError(
            f"--image-folder {image_folder}: one class ({classes[0]}); a classifier needs at "
            "least two class folders"
        )
    return layout


def folder_config(config: PipelineConfig, given: set[str]) -> tuple[PipelineConfig, FolderLayout]:
    """The configuration the folder implies, for the fields no flag gave.

    Args:
        config: the configuration from the profile and flags (`image_folder` set).
        given: the fields set by a flag.

    Returns:
        (the configuration with the dataset name, number of classes, model name and
        split strings the folder implies, the folder's layout).

    Raises:
        ImageFolderError: the folder is unusable, or a flag disagrees with it.
    """
    layout = read_layout(config.data.image_folder)
    classes = layout.class_names
    if "num_classes" in given and config.data.num_classes != len(classes):
        raise ImageFolderError(
            f"--num-classes {config.data.num_classes}, but --image-folder "
            f"{config.data.image_folder} has {len(classes)} class folders "
            f"({', '.join(classes)}): drop --num-classes, or pass {len(classes)}"
        )
    name = (
        config.data.dataset_name
        if "dataset_name" in given
        else derived_dataset_name(config.data.image_folder, config.data_dir)
    )
    settings: dict[str, object] = {"dataset_name": name, "num_classes": len(classes)}
    settings.update(
        {
            f"{split}_split": pattern
            for split, pattern in split_strings(layout, config).items()
            if f"{split}_split" not in given
        }
    )
    if "model_name" not in given:
        settings["model_name"] = name
    implied = config.replace(**settings)
    try:
        implied.validate()
    except ConfigError as error:
        raise ImageFolderError(str(error)) from None
    return implied, layout


def split_strings(layout: FolderLayout, config: PipelineConfig) -> dict[str, str]:
    """The TFDS split string of each output split: a split folder as it is, or carved from
    the (shuffled) train pool: test before eval at its end."""
    eval_part = round(config.data.eval_fraction * 100)
    test_part = round(config.data.test_fraction * 100)
    folders = {
        split: next((name for name in names if name in layout.images), "")
        for split, names in SPLIT_FOLDERS.items()
    }
    carved_test = not folders["test"]
    carved_eval = not folders["eval"]
    end_of_train = 100 - (eval_part if carved_eval else 0) - (test_part if carved_test else 0)
    strings = {"train": f"train[:{end_of_train}%]" if end_of_train < 100 else "train"}
    strings["eval"] = folders["eval"] or f"train[{100 - eval_part}%:]"
    strings["test"] = folders["test"] or (
        f"train[{end_of_train}%:{100 - eval_part if carved_eval else 100}%]"
    )
    return strings


def derived_dataset_name(image_folder: str, data_dir: str) -> str:
    """A TFDS name from the folder's name, never that of a dataset not made from a folder."""
    base = re.sub(r"[^a-z0-9]+", "_", os.path.basename(os.path.abspath(image_folder)).lower())
    base = base.strip("_") or "images"
    if not base[0].isalpha():
        base = f"images_{base}"
    candidates = [base, f"{base}_images", *(f"{base}_images_{n}" for n in range(2, 100))]
    return next(name for name in candidates if _free_for_folder(os.path.join(data_dir, name)))


def _free_for_folder(dataset_dir: str) -> bool:
    return not os.path.isdir(dataset_dir) or os.path.isfile(os.path.join(dataset_dir, MARKER_FILE))


@dataclass(frozen=True)
class PreparedFolder:
    """Images per split of the folder's dataset, and whether this call (re)wrote it."""

    counts: dict[str, int]
    rewritten: bool


def prepare_image_folder(layout: FolderLayout, dataset_name: str, data_dir: str) -> PreparedFolder:
    """Writes the folder as the TFDS dataset `dataset_name`, unless it already mirrors it.

    The dataset is rewritten whenever an image was added, removed or changed (their
    paths, sizes and modification times are compared): it always mirrors the folder's
    current files. An unchanged folder is not rewritten, so its dataset's files keep
    their fingerprint and a rerun reuses ExampleGen and what follows from the cache.

    Raises:
        ImageFolderError: `dataset_name` under `data_dir` is a dataset that was not made
            from a folder.
    """
    dataset_dir = os.path.join(data_dir, dataset_name)
    signature = _folder_signature(layout)
    if os.path.isdir(dataset_dir):
        if not _free_for_folder(dataset_dir):
            raise ImageFolderError(
                f"{dataset_dir} holds a dataset not made from an image folder; pass "
                "--dataset-name with a new name for the folder's dataset"
            )
        recorded = _read_marker(dataset_dir)
        prepared = os.path.isfile(os.path.join(dataset_dir, VERSION, "dataset_info.json"))
        if prepared and recorded.get("signature") == signature:
            return PreparedFolder(recorded["counts"], rewritten=False)
        shutil.rmtree(dataset_dir)
    counts = _write_dataset(layout, dataset_name, data_dir)
    with open(os.path.join(dataset_dir, MARKER_FILE), "w") as f:
        json.dump(
            {
                "image_folder": os.path.abspath(layout.root),
                "signature": signature,
                "counts": counts,
            },
            f,
        )
    return PreparedFolder(counts, rewritten=True)


def _write_dataset(layout: FolderLayout, dataset_name: str, data_dir: str) -> dict[str, int]:
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.dataset_builders import adhoc_builder

    class_names = layout.class_names
    features = tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(),
            "image/filename": tfds.features.Text(),
            "label": tfds.features.ClassLabel(names=class_names),
        }
    )
    split_datasets = {split: _examples(layout, split, class_names) for split in layout.images}
    adhoc_builder.store_as_tfds_dataset(
        name=dataset_name,
        version=VERSION,
        features=features,
        split_datasets=split_datasets,
        data_dir=data_dir,
        description=f"Images of {layout.root}, one class per folder.",
        file_format="tfrecord",
        disable_shuffling=True,  # the order is ours (see _examples)
    )
    return {split: len(examples) for split, examples in split_datasets.items()}


def _folder_signature(layout: FolderLayout) -> str:
    """A digest of what the dataset is written from: each image's split, class, path, size
    and modification time, and the version of the writing."""
    digest = hashlib.sha256(VERSION.encode())
    for split, classes in sorted(layout.images.items()):
        for name, paths in sorted(classes.items()):
            for path in paths:
                stat = os.stat(os.path.join(layout.root, path))
                digest.update(
                    f"\0{split}\0{name}\0{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
                )
    return digest.hexdigest()


def _read_marker(dataset_dir: str) -> dict:
    try:
        with open(os.path.join(dataset_dir, MARKER_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):  # absent or half-written: treated as no record, so rewritten
        return {}


def _classes(root: str, split: str) -> dict[str, list[str]]:
    """Class folder -> its image files (paths relative to root), for one split folder."""
    base = os.path.join(root, split)
    classes = {}
    for name in sorted(os.listdir(base)):
        folder = os.path.join(base, name)
        if name.startswith(".") or not os.path.isdir(folder):
            continue
        classes[name] = sorted(
            os.path.relpath(os.path.join(dirpath, file), root)
            for dirpath, _, files in os.walk(folder)
            for file in files
            if file.lower().endswith(IMAGE_EXTENSIONS)
        )
    return classes


# The first bytes of every JPEG and PNG file.
_IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _looks_like_an_image(path: str) -> bool:
    """Its header is a JPEG's or a PNG's: the cheap check that a class is not all broken
    files (ExampleGen decodes each and counts those it skips)."""
    with open(path, "rb") as f:
        return f.read(8).startswith(_IMAGE_SIGNATURES)


def _examples(layout: FolderLayout, split: str, class_names: list[str]) -> list[tuple[str, dict]]:
    """The split's files as they are on disk (no decoding: ExampleGen validates them), in a
    deterministic order."""
    ranked = []
    for name, paths in layout.images[split].items():
        in_class = sorted(paths, key=lambda path: hashlib.sha256(path.encode()).hexdigest())
        ranked += [
            ((rank + 0.5) / len(in_class), path, class_names.index(name))
            for rank, path in enumerate(in_class)
        ]
    # Stratified: each class's files in hash order, spread evenly over the split, so any
    # slice of it (a carved eval or test) holds every class in its share.
    files = [(path, label) for _, path, label in sorted(ranked)]
    examples = []
    for path, label in files:
        with open(os.path.join(layout.root, path), "rb") as f:
            data = f.read()
        examples.append((path, {"image": data, "image/filename": path, "label": label}))
    return examples
