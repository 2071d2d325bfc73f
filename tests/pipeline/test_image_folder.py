"""`--image-folder`: a folder of photos becomes a TFDS dataset read by the same ExampleGen,
and the folder answers the dataset name, the classes and the splits.

The CLI run of a folder, with no other flag, is `image_folder_run` (tests/conftest.py).
"""

from __future__ import annotations

import io
import json
import random

import pytest
from PIL import Image

from core.config import PipelineConfig
from pipeline.image_folder import (
    MARKER_FILE,
    ImageFolderError,
    derived_dataset_name,
    folder_config,
    prepare_image_folder,
    read_layout,
    split_strings,
)
from pipeline.sample_data import draw_image
from tests.components.test_tfds_example_gen import feature_bytes, read_split, run_example_gen
from tests.photo_folder import write_photo_folder

CLASSES = ("bean_rust", "healthy", "leaf_spot")  # folder names, in sorted order


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    root = write_photo_folder(
        tmp_path_factory.mktemp("photos"), CLASSES, {"train": 6, "test": 2}, png_every=0
    )
    gray = io.BytesIO()
    Image.open(io.BytesIO(draw_image(0, random.Random(0), 3))).convert("L").save(gray, "PNG")
    (root / "train" / "bean_rust" / "gray.png").write_bytes(gray.getvalue())
    (root / "train" / "healthy" / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    (root / "train" / "healthy" / "notes.txt").write_text("not an image: ignored")
    return root


def _config(folder, data_dir, **flags) -> PipelineConfig:
    return PipelineConfig.for_profile(
        "sample", image_folder=str(folder), data_dir=str(data_dir), **flags
    )


def test_the_folder_goes_through_the_same_example_gen(photo_folder, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tfds")
    config, layout = folder_config(_config(photo_folder, data_dir), given=set())
    prepared = prepare_image_folder(layout, config.data.dataset_name, str(data_dir))
    assert prepared.counts == {"train": 3 * 6 + 2, "test": 3 * 2} and prepared.rewritten
    examples = run_example_gen(
        tmp_path_factory,
        dataset_name=config.data.dataset_name,
        data_dir=str(data_dir),
        splits={"train": "train[:80%]", "eval": "train[80%:]", "test": "test"},
    )
    assert json.loads(examples.get_string_custom_property("class_names")) == list(CLASSES)
    split_counts = json.loads(examples.get_string_custom_property("split_counts"))
    assert split_counts["train"] + split_counts["eval"] == 3 * 6 + 2 - 1  # broken.jpg skipped
    assert split_counts["test"] == 6
    skipped = json.loads(examples.get_string_custom_property("skipped_images"))
    assert sum(sum(reasons.values()) for reasons in skipped.values()) == 1
    converted = json.loads(examples.get_string_custom_property("converted_images"))
    assert sum(sum(reasons.values()) for reasons in converted.values()) == 1  # gray.png
    # Clean JPEGs arrive byte for byte, under their path in the folder.
    example = read_split(examples.uri, "test")[0]
    name = feature_bytes(example, "image/filename").decode()
    assert feature_bytes(example, "image") == (photo_folder / name).read_bytes()
    # The carved eval split holds every class, not the last folder's images only.
    eval_labels = {
        e.features.feature["label"].int64_list.value[0] for e in read_split(examples.uri, "eval")
    }
    assert eval_labels == {0, 1, 2}


def test_the_folder_answers_name_classes_model_name_and_splits(photo_folder, tmp_path):
    config, layout = folder_config(_config(photo_folder, tmp_path), given=set())
    assert layout.class_names == list(CLASSES)
    assert config.data.dataset_name == "photos0"  # the folder's name (mktemp numbers it)
    assert config.data.num_classes == 3
    assert config.evaluation.model_name == config.data.dataset_name
    # train/ and test/: eval is carved from the end of train
    assert (config.data.train_split, config.data.eval_split, config.data.test_split) == (
        "train[:90%]",
        "train[90%:]",
        "test",
    )


def test_a_flat_folder_is_split_80_10_10_or_by_the_given_fractions(tmp_path):
    folder = write_photo_folder(tmp_path / "Holiday Photos!", ("a", "b"), {"": 5})
    layout = read_layout(str(folder))
    assert layout.flat and layout.count("train") == 10
    config = _config(folder, tmp_path / "tfds")
    assert split_strings(layout, config) == {
        "train": "train[:80%]",
        "test": "train[80%:90%]",
        "eval": "train[90%:]",
    }
    config = _config(folder, tmp_path / "tfds", eval_fraction=0.2, test_fraction=0.25)
    assert split_strings(layout, config) == {
        "train": "train[:55%]",
        "test": "train[55%:80%]",
        "eval": "train[80%:]",
    }
    assert derived_dataset_name(str(folder), str(tmp_path / "tfds")) == "holiday_photos"


def test_split_folders_are_used_as_they_are(tmp_path):
    folder = write_photo_folder(tmp_path / "f", ("a", "b"), {"train": 2, "val": 1, "test": 1})
    assert split_strings(read_layout(str(folder)), _config(folder, tmp_path)) == {
        "train": "train",
        "eval": "val",
        "test": "test",
    }


def test_flags_given_win_over_the_folder_and_a_disagreeing_count_names_both(photo_folder, tmp_path):
    given = _config(photo_folder, tmp_path, dataset_name="leaves", eval_split="train[:5%]")
    config, _ = folder_config(given, given={"dataset_name", "eval_split"})
    assert (config.data.dataset_name, config.evaluation.model_name) == ("leaves", "leaves")
    assert config.data.eval_split == "train[:5%]"
    with pytest.raises(ImageFolderError) as error:
        folder_config(_config(photo_folder, tmp_path, num_classes=2), given={"num_classes"})
    assert "--num-classes 2" in str(error.value)
    assert "3 class folders (bean_rust, healthy, leaf_spot)" in str(error.value)


def test_the_derived_name_never_is_a_dataset_not_made_from_a_folder(photo_folder, tmp_path):
    (tmp_path / "photos0" / "4.0.1").mkdir(parents=True)  # e.g. a TFDS dataset of that name
    assert derived_dataset_name(str(photo_folder), str(tmp_path)) == "photos0_images"
    config, layout = folder_config(_config(photo_folder, tmp_path), given=set())
    prepare_image_folder(layout, config.data.dataset_name, str(tmp_path))
    assert (tmp_path / "photos0_images" / MARKER_FILE).is_file()
    # ... and the next run rebuilds its own dataset under the same name
    assert derived_dataset_name(str(photo_folder), str(tmp_path)) == "photos0_images"


def test_a_dataset_not_made_from_a_folder_is_never_overwritten(photo_folder, tmp_path):
    (tmp_path / "cats_vs_dogs" / "4.0.1").mkdir(parents=True)
    with pytest.raises(ImageFolderError, match="--dataset-name"):
        prepare_image_folder(read_layout(str(photo_folder)), "cats_vs_dogs", str(tmp_path))
    assert (tmp_path / "cats_vs_dogs" / "4.0.1").is_dir()


def test_a_folder_dataset_is_rewritten_when_the_folder_changes_and_only_then(tmp_path):
    """Unchanged, the dataset's files keep their fingerprint: the rerun's ExampleGen is
    reused from the cache (image_folder_run shows it on the real pipeline)."""
    folder = write_photo_folder(tmp_path / "f", ("a", "b"), {"": 3})
    first = prepare_image_folder(read_layout(str(folder)), "again", str(tmp_path))
    assert (first.counts, first.rewritten) == ({"train": 6}, True)
    shard = next((tmp_path / "again").rglob("*.tfrecord*"))
    written = shard.stat().st_mtime_ns
    unchanged = prepare_image_folder(read_layout(str(folder)), "again", str(tmp_path))
    assert (unchanged.counts, unchanged.rewritten) == ({"train": 6}, False)
    assert shard.stat().st_mtime_ns == written
    (folder / "a" / "0.jpg").unlink()
    fewer = prepare_image_folder(read_layout(str(folder)), "again", str(tmp_path))
    assert (fewer.counts, fewer.rewritten) == ({"train": 5}, True)


@pytest.mark.parametrize(
    ("arrange", "message"),
    [
        (lambda root: None, "no images found"),
        (
            lambda root: (root / "x.jpg").write_bytes(draw_image(0, random.Random(0))),
            "1 images but no class folders",
        ),
        (
            lambda root: [(root / c).mkdir() or (root / c / "a.txt").write_text("") for c in "ab"],
            "no images found",
        ),
        (
            lambda root: write_photo_folder(root, ("a",), {"": 2}),
            "one class (a); a classifier needs at least two class folders",
        ),
        (
            lambda root: (
                write_photo_folder(root, ("cat", "dog"), {"": 2}) and (root / "fish").mkdir()
            ),
            "the class folder fish/ has no usable image",
        ),
        (
            lambda root: (
                write_photo_folder(root, ("cat", "dog"), {"train": 2})
                and (root / "train" / "dog" / "0.jpg").write_bytes(b"<html>")
                and (root / "train" / "dog" / "1.jpg").write_bytes(b"")
            ),
            "train/dog/ has no usable image",
        ),
        (
            lambda root: (
                write_photo_folder(root, ("cat", "dog"), {"train": 2}) and (root / "test").mkdir()
            ),
            "the split folder test/ has no images",
        ),
        (
            lambda root: write_photo_folder(root, ("cat", "dog"), {"train": 2, "": 1}),
            "split folders (train) beside other folders (cat, dog)",
        ),
        (
            lambda root: write_photo_folder(root, ("cat", "dog"), {"test": 2}),
            "no train/",
        ),
    ],
    ids=[
        "empty",
        "loose-images",
        "not-images",
        "one-class",
        "empty-class",
        "broken-class",
        "empty-split",
        "mixed",
        "no-train",
    ],
)
def test_an_unusable_folder_gets_one_clear_message(tmp_path, arrange, message):
    root = tmp_path / "photos"
    root.mkdir()
    arrange(root)
    with pytest.raises(ImageFolderError) as error:
        read_layout(str(root))
    assert message in str(error.value)
    assert str(root) in str(error.value)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(ImageFolderError, match="no such directory"):
        read_layout(str(tmp_path / "nowhere"))
