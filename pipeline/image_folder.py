"""`--image-folder DIR`: your own photos, `DIR/<split>/<class>/<image>`, as a TFDS dataset.

TFDS's `ImageFolder` builder finds the splits, the classes (sorted folder names,
its `ClassLabel`) and the files; this writes them, bytes untouched, as a prepared
TFDS dataset named `--dataset-name` under `--data-dir`. From there the usual
TfdsExampleGen reads it like any TFDS dataset: the same image cleaning, counts,
split strings (`--train-split 'train[:80%]' --eval-split 'train[80%:]'
--test-split test`), curated schema and class names.
"""

from __future__ import annotations

import json
import os
import shutil

import tensorflow_datasets as tfds
from tensorflow_datasets.core.dataset_builders import adhoc_builder

VERSION = "1.0.0"
# Written next to the prepared dataset: only a dataset made from a folder is ever rebuilt.
MARKER_FILE = "image_folder.json"


class ImageFolderError(ValueError):
    """The folder cannot become a dataset; the message says why and what to do."""


def prepare_image_folder(image_folder: str, dataset_name: str, data_dir: str) -> str:
    """(Re)writes `image_folder` as the TFDS dataset `dataset_name`; returns its directory.

    Rebuilt on every call, so the dataset always mirrors the folder's current files.

    Raises:
        ImageFolderError: the folder has no `<split>/<class>/<image>` files, or
            `dataset_name` under `data_dir` is a dataset that was not made from a folder.
    """
    dataset_dir = os.path.join(data_dir, dataset_name)
    if os.path.isdir(dataset_dir):
        if not os.path.isfile(os.path.join(dataset_dir, MARKER_FILE)):
            raise ImageFolderError(
                f"{dataset_dir} holds a dataset not made from an image folder; pass "
                "--dataset-name with a new name for the folder's dataset"
            )
        shutil.rmtree(dataset_dir)
    folder = tfds.folder_dataset.ImageFolder(image_folder)
    splits = list(folder.info.splits.keys())
    class_names = folder.info.features["label"].names
    if not splits or not class_names:
        raise ImageFolderError(
            f"--image-folder {image_folder}: no images found; lay them out as "
            "DIR/<split>/<class>/<image>.jpg|.jpeg|.png, e.g. DIR/train/cat/1.jpg"
        )
    features = tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(),
            "image/filename": tfds.features.Text(),
            "label": tfds.features.ClassLabel(names=class_names),
        }
    )
    adhoc_builder.store_as_tfds_dataset(
        name=dataset_name,
        version=VERSION,
        features=features,
        split_datasets={split: _examples(folder, split, image_folder) for split in splits},
        data_dir=data_dir,
        description=f"Images of {image_folder}, one class per folder.",
        file_format="tfrecord",
        disable_shuffling=True,  # ImageFolder already orders examples deterministically
    )
    with open(os.path.join(dataset_dir, MARKER_FILE), "w") as f:
        json.dump({"image_folder": os.path.abspath(image_folder)}, f)
    return os.path.join(dataset_dir, VERSION)


def _examples(folder: tfds.core.DatasetBuilder, split: str, root: str) -> list[tuple[str, dict]]:
    """The split's files as they are on disk (no decoding: ExampleGen validates them)."""
    undecoded = folder.as_dataset(split=split, decoders={"image": tfds.decode.SkipDecoding()})
    examples = []
    for example in undecoded.as_numpy_iterator():
        path = os.path.relpath(example["image/filename"].decode(), root)
        examples.append(
            (path, {"image": example["image"], "image/filename": path, "label": example["label"]})
        )
    return examples
