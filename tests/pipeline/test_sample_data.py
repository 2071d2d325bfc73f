"""The generated sample dataset is a real TFDS dataset in the cats_vs_dogs 4.0.1 format."""

import io
import random
import statistics
import subprocess
import sys

import numpy as np
import tensorflow_datasets as tfds
from PIL import Image

from pipeline import sample_data
from tests.conftest import SAMPLE_EXAMPLES


def test_features_match_the_real_cats_vs_dogs_builder():
    real = tfds.builder("cats_vs_dogs")  # the builder's code, no data needed
    assert str(real.info.version) == "4.0.1"
    assert sample_data.make_features().to_json() == real.info.features.to_json()


def test_a_fresh_process_loads_it_by_name_without_the_builder_class(sample_data_dir):
    """The pipeline's processes never import the generator: TFDS must read it from files."""
    script = (
        "import sys, tensorflow_datasets as tfds;"
        f"b = tfds.builder({sample_data.SAMPLE_DATASET_NAME!r}, data_dir=sys.argv[1]);"
        "print(type(b).__name__, b.info.splits['train'].num_examples)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, sample_data_dir], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["ReadOnlyBuilder", str(SAMPLE_EXAMPLES)]


def test_loads_through_tfds_with_the_real_feature_layout(sample_data_dir):
    builder = tfds.builder(sample_data.SAMPLE_DATASET_NAME, data_dir=sample_data_dir)
    assert builder.info.supervised_keys == ("image", "label")
    assert str(builder.info.version) == "4.0.1"
    assert builder.info.splits["train"].num_examples == SAMPLE_EXAMPLES
    dataset = tfds.load(
        sample_data.SAMPLE_DATASET_NAME,
        data_dir=sample_data_dir,
        split="train[:5]",  # before the first planted defect
        download=False,
    )
    example = next(iter(dataset))
    assert example["image"].shape[-1] == 3
    assert example["image/filename"].numpy().decode().startswith("PetImages/")


def test_classes_are_balanced_sizes_vary_and_defects_are_planted_in_order(sample_data_dir):
    dataset = tfds.load(
        sample_data.SAMPLE_DATASET_NAME,
        data_dir=sample_data_dir,
        split="train",
        download=False,
        decoders={"image": tfds.decode.SkipDecoding()},
    )
    defects = sample_data.planted_defects(SAMPLE_EXAMPLES)
    labels, sizes, found = [], set(), {}
    for position, example in enumerate(dataset.as_numpy_iterator()):
        labels.append(int(example["label"]))
        # Generation order is kept, so a file's number is its position in the split.
        assert example["image/filename"].decode().endswith(f"/{position}.jpg")
        if position in defects:
            found[position] = example["image"]
            continue
        image = Image.open(io.BytesIO(example["image"]))
        assert (image.format, image.mode) == ("JPEG", "RGB")
        sizes.add(image.size)
    assert np.bincount(labels).tolist() == [SAMPLE_EXAMPLES // 2] * 2
    assert len(sizes) > SAMPLE_EXAMPLES // 2  # like photos: hardly two the same
    widths = [w for w, _ in sizes]
    assert min(widths) >= sample_data.MIN_SIDE and max(widths) <= sample_data.MAX_SIDE
    kinds = {position: defects[position] for position in found}
    assert set(kinds.values()) == {
        sample_data.GRAYSCALE,
        sample_data.PNG,
        sample_data.CMYK,
        sample_data.RGBA,
        sample_data.EMPTY,
        sample_data.TRUNCATED,
        sample_data.HTML,
        sample_data.OVERSIZED,
    }
    modes = {
        kinds[p]: Image.open(io.BytesIO(found[p])).mode
        for p in found
        if kinds[p] in (sample_data.GRAYSCALE, sample_data.CMYK, sample_data.RGBA)
    }
    assert modes == {sample_data.GRAYSCALE: "L", sample_data.CMYK: "CMYK", sample_data.RGBA: "RGBA"}
    assert all(found[p] == b"" for p in found if kinds[p] == sample_data.EMPTY)


def test_generation_is_deterministic():
    import random

    first = [sample_data.draw_image(i % 2, random.Random(7)) for i in range(3)]
    second = [sample_data.draw_image(i % 2, random.Random(7)) for i in range(3)]
    assert first == second


def test_is_prepared_reflects_the_data_dir(sample_data_dir, tmp_path):
    assert sample_data.is_prepared(sample_data_dir)
    assert not sample_data.is_prepared(str(tmp_path))


def test_an_n_class_sample_under_any_name(tmp_path):
    sample_data.generate_sample_dataset(
        str(tmp_path), num_examples=30, num_classes=3, dataset_name="tri"
    )
    builder = tfds.builder("tri", data_dir=str(tmp_path))
    assert builder.info.features["label"].names == ["red", "green", "blue"]
    # Planted defects (a truncated JPEG...) do not decode: read the labels only.
    examples = builder.as_dataset(split="train", decoders={"image": tfds.decode.SkipDecoding()})
    labels = [int(e["label"]) for e in examples]
    assert sorted(set(labels)) == [0, 1, 2]


def test_generate_sample_prints_one_progress_line_and_no_library_output(tmp_path):
    from tests.conftest import run_cli

    result = run_cli(
        "generate-sample", "--data-dir", str(tmp_path / "tfds"), "--sample-examples", "20",
        cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()
    assert line.startswith("writing the sample dataset cats_vs_dogs_sample (20 images, 2 classes)")
    assert line.endswith(f" done: {tmp_path / 'tfds' / 'cats_vs_dogs_sample' / '4.0.1'}")


def test_photo_sizes_draw_images_shaped_like_the_real_photos():
    """benchmarks/data_path's dataset: median about 500x375, JPEGs of about 20-40 KB."""
    rng = random.Random(0)
    images = [
        Image.open(io.BytesIO(sample_data.draw_image(i % 2, rng, photo_sizes=True)))
        for i in range(60)
    ]
    sizes = [len(sample_data.draw_image(i % 2, rng, photo_sizes=True)) for i in range(60)]

    assert all(image.format == "JPEG" and image.mode == "RGB" for image in images)
    assert max(max(image.size) for image in images) == 500
    assert statistics.median(max(image.size) for image in images) == 500
    assert 340 <= statistics.median(min(image.size) for image in images) <= 410
    assert 20 * 1024 <= statistics.median(sizes) <= 40 * 1024
