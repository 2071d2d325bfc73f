"""`--image-folder`: a folder of photos through TFDS's ImageFolder into the same ExampleGen."""

from __future__ import annotations

import io
import json
import random

import pytest
from PIL import Image

from pipeline.image_folder import ImageFolderError, prepare_image_folder
from pipeline.sample_data import draw_image
from tests.components.test_tfds_example_gen import feature_bytes, read_split, run_example_gen

CLASSES = ("bean_rust", "healthy", "leaf_spot")  # folder names: sorted by ImageFolder


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = random.Random(0)
    for split, per_class in (("train", 6), ("test", 2)):
        for label, name in enumerate(CLASSES):
            (root / split / name).mkdir(parents=True)
            for i in range(per_class):
                (root / split / name / f"{i}.jpg").write_bytes(draw_image(label, rng, 3))
    gray = io.BytesIO()
    Image.open(io.BytesIO(draw_image(0, rng, 3))).convert("L").save(gray, format="PNG")
    (root / "train" / "bean_rust" / "gray.png").write_bytes(gray.getvalue())
    (root / "train" / "healthy" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return root


@pytest.fixture(scope="module")
def prepared(photo_folder, tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("tfds"))
    prepare_image_folder(str(photo_folder), "my_photos", data_dir)
    return data_dir


def test_the_folder_goes_through_the_same_example_gen(prepared, photo_folder, tmp_path_factory):
    examples = run_example_gen(
        tmp_path_factory,
        dataset_name="my_photos",
        data_dir=prepared,
        splits={"train": "train[:80%]", "eval": "train[80%:]", "test": "test"},
    )
    assert json.loads(examples.get_string_custom_property("class_names")) == list(CLASSES)
    counts = json.loads(examples.get_string_custom_property("split_counts"))
    assert counts["train"] + counts["eval"] == 3 * 6 + 2 - 1  # the broken file is skipped
    assert counts["test"] == 6
    skipped = json.loads(examples.get_string_custom_property("skipped_images"))
    assert sum(sum(reasons.values()) for reasons in skipped.values()) == 1
    converted = json.loads(examples.get_string_custom_property("converted_images"))
    assert sum(sum(reasons.values()) for reasons in converted.values()) == 1  # gray.png
    # Clean JPEGs arrive byte for byte, under their path in the folder.
    example = read_split(examples.uri, "test")[0]
    name = feature_bytes(example, "image/filename").decode()
    assert feature_bytes(example, "image") == (photo_folder / name).read_bytes()


def test_an_empty_folder_says_how_to_lay_it_out(tmp_path):
    (tmp_path / "photos").mkdir()
    with pytest.raises(ImageFolderError, match="DIR/<split>/<class>/<image>"):
        prepare_image_folder(str(tmp_path / "photos"), "empty", str(tmp_path / "tfds"))


def test_a_dataset_not_made_from_a_folder_is_never_overwritten(photo_folder, tmp_path):
    (tmp_path / "cats_vs_dogs" / "4.0.1").mkdir(parents=True)
    with pytest.raises(ImageFolderError, match="--dataset-name"):
        prepare_image_folder(str(photo_folder), "cats_vs_dogs", str(tmp_path))
    assert (tmp_path / "cats_vs_dogs" / "4.0.1").is_dir()


def test_a_folder_dataset_is_rebuilt_with_the_folders_current_files(photo_folder, tmp_path):
    prepare_image_folder(str(photo_folder), "again", str(tmp_path))
    prepare_image_folder(str(photo_folder), "again", str(tmp_path))  # no "already prepared"
