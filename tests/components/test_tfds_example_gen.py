"""TfdsExampleGen's executor with real Beam on generated TFDS datasets.

The session's sample dataset holds one of each planted defect (grayscale, PNG,
CMYK, RGBA, empty, truncated, HTML, oversized) inside the default splits, so
one executor run checks conversion, skipping, counting and the artifact's
properties together. Each executor run costs a few seconds.
"""

import io
import json
import os
import random
import socket
from collections import Counter

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image
from tfx.types import standard_artifacts

from components import written_examples
from components.tfds_example_gen import executor, tfds_source
from components.tfds_example_gen.component import TfdsExampleGen
from components.tfds_example_gen.data_fingerprint import data_fingerprint
from components.tfds_example_gen.executor import Executor
from core.config import DataConfig, PipelineConfig
from pipeline import sample_data
from tests.conftest import SAMPLE_EXAMPLES

SPLITS = PipelineConfig.for_profile("sample").data.splits()
MAX_PIXELS = DataConfig().max_image_pixels
# Which outcome each planted defect must have (see image_cleaning).
SKIPPED = {
    sample_data.EMPTY: "empty",
    sample_data.TRUNCATED: "truncated",
    sample_data.HTML: "undecodable",
    sample_data.OVERSIZED: "oversized",
}
CONVERTED = {
    sample_data.GRAYSCALE: "grayscale",
    sample_data.PNG: "not_jpeg",
    sample_data.CMYK: "cmyk",
    sample_data.RGBA: "rgba",
}


def read_split(examples_uri: str, split: str) -> list[tf.train.Example]:
    """Reads one split's gzip-compressed TFRecords, as TFX components do."""
    files = tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{split}", "*.gz"))
    assert files
    return [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(files, "GZIP")]


def feature_bytes(example: tf.train.Example, key: str) -> bytes:
    return example.features.feature[key].bytes_list.value[0]


def run_example_gen(tmp_path_factory, **component_args) -> standard_artifacts.Examples:
    component = TfdsExampleGen(**{"max_image_pixels": MAX_PIXELS, **component_args})
    artifact = standard_artifacts.Examples()
    artifact.uri = str(tmp_path_factory.mktemp("examples"))
    Executor().Do({}, {"examples": [artifact]}, component.exec_properties)
    return artifact


def expected_outcomes(split: str, outcome_of_defect: dict[str, str]) -> dict[str, int]:
    """The planted defects that TFDS's slice arithmetic puts into `split`, by outcome.

    The sample keeps generation order (disable_shuffling), so dataset position
    == generation index, and 'train[a%:b%]' of n examples is [a*n/100, b*n/100).
    """
    start, end = {
        "train": (0, SAMPLE_EXAMPLES * 40 // 100),
        "eval": (SAMPLE_EXAMPLES * 40 // 100, SAMPLE_EXAMPLES * 50 // 100),
        "test": (SAMPLE_EXAMPLES * 50 // 100, SAMPLE_EXAMPLES * 60 // 100),
    }[split]
    return dict(
        Counter(
            outcome_of_defect[kind]
            for index, kind in sample_data.planted_defects(SAMPLE_EXAMPLES).items()
            if start <= index < end and kind in outcome_of_defect
        )
    )


@pytest.fixture(scope="module")
def generated_examples(sample_data_dir, tmp_path_factory):
    return run_example_gen(
        tmp_path_factory,
        dataset_name="cats_vs_dogs_sample",
        data_dir=sample_data_dir,
        splits=SPLITS,
    )


def test_split_counts_match_tfds_slice_arithmetic_minus_skipped_images(generated_examples):
    n = SAMPLE_EXAMPLES
    sliced = {"train": n * 40 // 100, "eval": n * 10 // 100, "test": n * 10 // 100}
    expected = {s: sliced[s] - sum(expected_outcomes(s, SKIPPED).values()) for s in SPLITS}
    counts = {s: len(read_split(generated_examples.uri, s)) for s in SPLITS}
    assert counts == expected
    assert json.loads(generated_examples.get_string_custom_property("split_counts")) == expected


def test_the_sample_plants_every_defect_class_inside_the_default_splits():
    in_splits = Counter()
    for split in SPLITS:
        in_splits.update(expected_outcomes(split, {**SKIPPED, **CONVERTED}))
    assert set(in_splits) == set(SKIPPED.values()) | set(CONVERTED.values())
    assert all(expected_outcomes(split, SKIPPED) for split in SPLITS)  # each split loses some


def test_skipped_and_converted_images_are_counted_per_split_and_reason(generated_examples):
    skipped = json.loads(generated_examples.get_string_custom_property("skipped_images"))
    converted = json.loads(generated_examples.get_string_custom_property("converted_images"))
    assert skipped == {s: expected_outcomes(s, SKIPPED) for s in SPLITS}
    assert converted == {s: expected_outcomes(s, CONVERTED) for s in SPLITS}
    report = os.path.join(generated_examples.uri, executor.REPORT_DIR, "train.json")
    assert json.load(open(report))["truncated"] == skipped["train"]["truncated"]


def test_every_written_image_is_an_rgb_jpeg_or_png_tensorflow_decodes(generated_examples):
    for split in SPLITS:
        for example in read_split(generated_examples.uri, split):
            encoded = feature_bytes(example, "image")
            assert Image.open(io.BytesIO(encoded)).format in ("JPEG", "PNG")
            assert tf.io.decode_image(encoded, channels=0).shape[-1] == 3


def test_clean_images_are_kept_byte_for_byte(generated_examples, sample_data_dir):
    source = tfds.load(
        "cats_vs_dogs_sample",
        data_dir=sample_data_dir,
        split="train[:5]",
        decoders={"image": tfds.decode.SkipDecoding()},
    )
    originals = {e["image/filename"]: e["image"] for e in source.as_numpy_iterator()}
    written = {
        feature_bytes(e, "image/filename"): feature_bytes(e, "image")
        for e in read_split(generated_examples.uri, "train")
    }
    clean = set(originals) - {
        f"PetImages/{'Dog' if i % 2 else 'Cat'}/{i}.jpg".encode()
        for i in sample_data.planted_defects(SAMPLE_EXAMPLES)
    }
    assert clean and all(written[name] == originals[name] for name in clean)


def test_the_artifact_records_where_the_data_came_from(generated_examples, sample_data_dir):
    assert generated_examples.split_names == '["train", "eval", "test"]'
    properties = {
        key: generated_examples.get_string_custom_property(key)
        for key in ("tfds_name", "tfds_version", "tfds_data_dir")
    }
    assert properties == {
        "tfds_name": "cats_vs_dogs_sample",
        "tfds_version": "4.0.1",
        "tfds_data_dir": sample_data_dir,
    }
    assert json.loads(generated_examples.get_string_custom_property("tfds_splits")) == SPLITS
    assert json.loads(generated_examples.get_string_custom_property("class_names")) == [
        "cat",
        "dog",
    ]
    # Listed when it ran (the Pusher's training identity), as the cache key lists it.
    fingerprint = generated_examples.get_string_custom_property("data_fingerprint")
    assert fingerprint == data_fingerprint(
        sample_data_dir, "cats_vs_dogs_sample", "4.0.1", SPLITS.values()
    )


def test_splits_are_disjoint_and_keep_raw_features_with_stable_ids(generated_examples):
    ids = {}
    for split in SPLITS:
        examples = read_split(generated_examples.uri, split)
        assert set(examples[0].features.feature) == {"image", "image/filename", "label", "tfds_id"}
        ids[split] = {feature_bytes(e, "tfds_id") for e in examples}
    assert not ids["train"] & ids["eval"]
    assert not ids["train"] & ids["test"]
    assert not ids["eval"] & ids["test"]
    assert b"cats_vs_dogs_sample-train.tfrecord-00000-of-00001__0" in ids["train"]


def test_two_runs_give_the_same_examples_in_each_split(
    generated_examples, sample_data_dir, tmp_path_factory
):
    again = run_example_gen(
        tmp_path_factory,
        dataset_name="cats_vs_dogs_sample",
        data_dir=sample_data_dir,
        splits=SPLITS,
    )
    for split in SPLITS:

        def by_id(uri):
            return {feature_bytes(e, "tfds_id"): e for e in read_split(uri, split)}  # noqa: B023

        first, second = by_id(generated_examples.uri), by_id(again.uri)
        assert first.keys() == second.keys()
        assert all(first[i].SerializeToString() == second[i].SerializeToString() for i in first)


class PetPictures(tfds.core.GeneratorBasedBuilder):
    """A tiny three-way split dataset whose features are not called image/label."""

    VERSION = tfds.core.Version("1.2.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            features=tfds.features.FeaturesDict(
                {
                    "picture": tfds.features.Image(),
                    "species": tfds.features.ClassLabel(names=["cat", "dog"]),
                }
            ),
        )

    def _split_generators(self, dl_manager):
        return {
            "train": self._generate_examples(0, 12),
            "validation": self._generate_examples(12, 20),
        }

    def _generate_examples(self, start, end):
        rng = random.Random(start)
        for index in range(start, end):
            yield index, {"picture": sample_data.draw_image(index % 2, rng), "species": index % 2}


@pytest.fixture(scope="module")
def pet_pictures_dir(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("pets"))
    PetPictures(data_dir=data_dir).download_and_prepare()
    return data_dir


def test_a_dataset_with_other_feature_keys_and_split_names_works(
    pet_pictures_dir, tmp_path_factory
):
    artifact = run_example_gen(
        tmp_path_factory,
        dataset_name="pet_pictures",
        data_dir=pet_pictures_dir,
        splits={"train": "train", "eval": "validation[:50%]", "test": "validation[50%:]"},
        image_key="picture",
        label_key="species",
    )
    counts = {s: len(read_split(artifact.uri, s)) for s in ("train", "eval", "test")}
    assert counts == {"train": 12, "eval": 4, "test": 4}
    example = read_split(artifact.uri, "eval")[0]
    assert set(example.features.feature) == {"image", "label", "tfds_id"}
    assert example.features.feature["label"].int64_list.value[0] in (0, 1)
    assert artifact.get_string_custom_property("tfds_version") == "1.2.0"


def test_a_feature_key_the_dataset_lacks_fails_before_the_beam_job(
    pet_pictures_dir, tmp_path_factory
):
    with pytest.raises(tfds_source.FeatureKeyError, match="--image-key 'image'.*picture, species"):
        run_example_gen(
            tmp_path_factory,
            dataset_name="pet_pictures",
            data_dir=pet_pictures_dir,
            splits={"train": "train"},
        )


def test_bad_split_strings_fail_before_the_beam_job_naming_every_one(
    sample_data_dir, tmp_path_factory
):
    with pytest.raises(tfds_source.SplitError) as raised:
        run_example_gen(
            tmp_path_factory,
            dataset_name="cats_vs_dogs_sample",
            data_dir=sample_data_dir,
            splits={"train": "train[:40%]", "eval": "validation[:10%]", "test": "train[10%:10%]"},
        )
    message = str(raised.value)
    assert "'eval'" in message and "Known splits: train" in message
    assert "'test'" in message and "selects no examples" in message
    assert "output split 'train'" not in message


def test_overlapping_splits_are_warned_about(sample_data_dir):
    builder = tfds_source.open_prepared_builder("cats_vs_dogs_sample", sample_data_dir)
    slices = tfds_source.resolve_splits(
        builder, {"train": "train[:40%]", "eval": "train[30%:50%]", "test": "train[50%:60%]"}
    )
    assert tfds_source.overlapping_splits(slices) == [
        f"splits 'train' and 'eval' share {SAMPLE_EXAMPLES // 10} examples: "
        "the same images will be in both"
    ]
    assert tfds_source.overlapping_splits(tfds_source.resolve_splits(builder, SPLITS)) == []


def test_missing_dataset_fails_without_touching_the_network(tmp_path, monkeypatch):
    attempts = []

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(tfds_source.DatasetUnavailableError) as raised:
        tfds_source.open_prepared_builder("cats_vs_dogs", str(tmp_path))
    assert attempts == []
    message = str(raised.value)
    assert f"searched {tmp_path / 'cats_vs_dogs'}" in message
    assert f"tfds build cats_vs_dogs --data_dir {tmp_path}" in message
    assert "--manual_dir" in message


def test_empty_split_strings_are_reported(sample_data_dir):
    builder = tfds_source.open_prepared_builder("cats_vs_dogs_sample", sample_data_dir)
    with pytest.raises(tfds_source.SplitError, match="selects no examples"):
        tfds_source.shard_slices(builder, "train[10%:10%]")


def test_download_prepares_a_missing_dataset_only_when_asked(tmp_path):
    """The sample's builder generates instead of downloading, so `download=True` runs offline."""
    with pytest.raises(tfds_source.DatasetUnavailableError):
        tfds_source.open_prepared_builder("cats_vs_dogs_sample", str(tmp_path))
    assert not sample_data.is_prepared(str(tmp_path))
    builder = tfds_source.open_prepared_builder("cats_vs_dogs_sample", str(tmp_path), download=True)
    assert builder.is_prepared() and sample_data.is_prepared(str(tmp_path))


def test_with_parallel_bundles_a_short_split_fails_naming_it(
    sample_data_dir, tmp_path_factory, monkeypatch
):
    """As if Beam had lost one train example: with parallel bundles ExampleGen counts its
    files against what it produced (components.written_examples) and fails. The run itself
    stays in_memory: the multi-worker runner's loss is random, so it cannot be the test."""
    monkeypatch.setattr(written_examples, "bundles_run_in_parallel", lambda args: True)
    counted = written_examples.count_split
    monkeypatch.setattr(
        written_examples,
        "count_split",
        lambda split_dir: counted(split_dir) - split_dir.endswith("Split-train"),
    )
    with pytest.raises(written_examples.LostExamplesError, match="split train: .* written of"):
        run_example_gen(
            tmp_path_factory,
            dataset_name="cats_vs_dogs_sample",
            data_dir=sample_data_dir,
            splits=SPLITS,
        )
