"""The configuration object: profiles, overrides from flags, and validation before any run."""

import argparse
import dataclasses
import json
import os

import pytest

from core.config import LOCAL_SETUP_FILE, ConfigError, PipelineConfig
from pipeline.flags import add_config_arguments, config_from_args


def parse(*argv: str) -> PipelineConfig:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    return config_from_args(parser.parse_args(argv))


def test_full_profile_is_the_guides_recipe():
    """Each recipe number of the Keras guide "Transfer learning & fine-tuning", field by field."""
    config = PipelineConfig.for_profile("full")
    assert config.data.dataset_name == "cats_vs_dogs"
    assert config.data.splits() == {
        "train": "train[:40%]",
        "eval": "train[40%:50%]",
        "test": "train[50%:60%]",
    }
    assert config.data.image_size == 150
    t = config.training
    assert t.weights == "imagenet"  # Xception(weights="imagenet", include_top=False)
    assert (t.augment, t.rotation_factor) == (True, 0.1)  # RandomFlip + RandomRotation(0.1)
    assert t.dropout_rate == 0.2
    assert t.batch_size == 32
    assert (t.head_epochs, t.head_learning_rate) == (20, 1e-3)  # Adam() default
    assert (t.fine_tune_epochs, t.fine_tune_learning_rate) == (10, 1e-5)
    # No departures: the model of the last epoch of each stage, every epoch run, float32,
    # the base run on every (augmented) image, Keras fit.
    assert t.restore_best_weights is False
    assert t.early_stopping_patience == 0
    assert t.feature_cache is False
    assert (t.mixed_precision, t.jit_compile, t.training_loop) == ("none", False, "fit")
    assert t.deterministic is False


def test_the_guides_loss_on_logits_and_accuracy_at_probability_one_half():
    """The model outputs one logit: the loss is cross-entropy on its sigmoid, and accuracy
    decides at probability 0.5, logit 0 (the guide's BinaryAccuracy() on logits decides at
    logit 0.5, probability ~0.62: see README)."""
    import numpy as np

    from trainer_module import objective

    labels, logits = np.array([[0.0], [1.0]]), np.array([[-0.1], [0.1]])
    probabilities = 1 / (1 + np.exp(-logits))
    expected = -np.mean(labels * np.log(probabilities) + (1 - labels) * np.log(1 - probabilities))
    assert float(objective.make_loss()(labels, logits)) == pytest.approx(expected, rel=1e-5)
    (metric,) = objective.make_metrics()
    metric.update_state(labels, logits)  # just below and just above probability 0.5
    assert float(metric.result()) == 1.0


def test_config_command_prints_the_resolved_configuration_as_json(capsys):
    from pipeline.cli import main

    assert main(["config", "--profile", "full", "--batch-size", "64", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {**PipelineConfig.for_profile("full", batch_size=64).to_dict()}
    assert printed["training"]["restore_best_weights"] is False


def test_sample_profile_is_offline():
    config = PipelineConfig.for_profile("sample")
    assert config.data.dataset_name == "cats_vs_dogs_sample"
    assert config.training.weights == "none"
    assert config.data.splits() == PipelineConfig.for_profile("full").data.splits()


def test_flags_override_profile_fields_and_keep_the_rest():
    config = parse("--profile", "full", "--head-epochs", "3", "--no-augment", "--image-size", "96")
    assert config.training.head_epochs == 3
    assert config.training.augment is False
    assert config.data.image_size == 96
    assert config.training.fine_tune_epochs == 10  # untouched: from the profile


def test_default_profile_of_the_cli_is_sample():
    assert parse().profile == "sample"


def test_every_problem_is_reported_at_once_with_the_flag_to_fix():
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.for_profile(
            "sample",
            image_size=32,
            train_split="train[:40",
            pipeline_name="Bad_Name",
            dropout_rate=1.5,
            weights="weights.bin",
            beam_direct_running_mode="warp",
        )
    message = str(raised.value)
    for flag in (
        "--image-size 32",
        "--train-split 'train[:40'",
        "--pipeline-name 'Bad_Name'",
        "--dropout-rate 1.5",
        "--weights 'weights.bin'",
        "--beam-direct-running-mode 'warp'",
    ):
        assert flag in message


@pytest.mark.parametrize(
    "split", ["train", "train[:40%]", "train[40%:50%]", "train[-10%:]", "train[:100]+test"]
)
def test_valid_split_strings_pass(split):
    PipelineConfig.for_profile("sample", test_split=split)


def test_unknown_profile_and_field_are_rejected():
    with pytest.raises(ConfigError, match="unknown profile"):
        PipelineConfig.for_profile("huge")
    with pytest.raises(ConfigError, match="unknown configuration field 'epochs'"):
        PipelineConfig.for_profile("sample", epochs=3)


def test_dict_round_trip_is_lossless():
    config = PipelineConfig.for_profile("full", head_epochs=2)
    assert PipelineConfig.from_dict(config.to_dict()) == config


def test_config_is_frozen():
    """One configuration flows from the CLI to every component and into cache keys: a
    component changing it in place would change what the next one reads."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        PipelineConfig.for_profile("sample").training.head_epochs = 1


def test_locations_derive_from_output_dir(tmp_path):
    config = PipelineConfig.for_profile("sample", output_dir=str(tmp_path))
    assert config.pipeline_root == str(tmp_path / "pipeline_root")
    assert config.metadata_path == str(tmp_path / "metadata.sqlite")
    assert config.model_serving_dir == str(tmp_path / "serving" / "cats_vs_dogs_sample")
    assert "--direct_running_mode=in_memory" in config.beam_pipeline_args()


def test_tfx_builds_no_sdist_of_itself_for_the_local_beam_runs():
    """Without a staging flag TFX copies its install and runs setup.py sdist per Beam component."""
    from tfx.utils import dependency_utils

    args = PipelineConfig.for_profile("sample").beam_pipeline_args()
    assert f"--setup_file={LOCAL_SETUP_FILE}" in args and os.path.isfile(LOCAL_SETUP_FILE)
    assert dependency_utils.make_beam_dependency_flags(args) == args  # nothing built or added


def test_the_model_is_named_after_the_dataset_unless_a_flag_names_it():
    assert PipelineConfig.for_profile("full").evaluation.model_name == "cats_vs_dogs"
    flowers = parse("--profile", "full", "--dataset-name", "tf_flowers")
    assert flowers.evaluation.model_name == "tf_flowers"
    subset = PipelineConfig.for_profile("sample", dataset_name="imagenet2012_subset/1pct")
    assert subset.evaluation.model_name == "imagenet2012_subset_1pct"
    named = parse("--dataset-name", "tf_flowers", "--model-name", "flowers")
    assert named.evaluation.model_name == "flowers"
