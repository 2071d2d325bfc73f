"""VersionedPusher's executor with real TFX artifacts: blessed models only, integer versions."""

import json
import os

import pytest
from tfx import v1 as tfx
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components.versioned_pusher.component import VersionedPusher
from components.versioned_pusher.executor import Executor
from tests.core.test_serving_layout import make_saved_model


def push(
    tmp_path,
    serving_dir: str,
    blessed: bool,
    model_name: str = "model",
    data_fingerprint: str | None = None,
    recipe: str = "recipe-1",
    serving_check: bool | None = None,
) -> standard_artifacts.PushedModel:
    """Runs the executor; with `data_fingerprint`, also the Examples it came from; with
    `serving_check`, also ServingCheck's InfraBlessing (passed or not, warm-up requests)."""
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / model_name)
    if not os.path.exists(model.uri):
        make_saved_model(tmp_path / model_name / "Format-Serving", model_name)
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path / "blessing")
    blessing.set_int_custom_property("blessed", int(blessed))
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / "pushed")
    destination = tfx.proto.PushDestination(
        filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_dir)
    )
    inputs = {"model": [model], "model_blessing": [blessing]}
    if data_fingerprint is not None:
        examples = standard_artifacts.Examples()
        examples.set_string_custom_property("data_fingerprint", data_fingerprint)
        inputs["examples"] = [examples]
    if serving_check is not None:
        check = standard_artifacts.InfraBlessing()
        check.uri = str(tmp_path / "serving_check")
        os.makedirs(check.uri, exist_ok=True)
        (tmp_path / "serving_check" / "tf_serving_warmup_requests").write_bytes(b"requests")
        check.set_int_custom_property("blessed", int(serving_check))
        inputs["infra_blessing"] = [check]
    Executor().Do(
        inputs,
        {"pushed_model": [pushed]},
        {
            "push_destination": proto_utils.proto_to_json(destination),
            "custom_config": json.dumps({"recipe_fingerprint": recipe}),
        },
    )
    return pushed


def test_blessed_models_are_pushed_as_1_then_2(tmp_path):
    serving = str(tmp_path / "serving" / "cats")
    first = push(tmp_path, serving, blessed=True)
    second = push(tmp_path, serving, blessed=True, model_name="retrained")
    assert first.get_int_custom_property("pushed") == 1
    assert first.get_string_custom_property("pushed_version") == "1"
    assert first.get_string_custom_property("pushed_destination") == os.path.join(serving, "1")
    assert second.get_string_custom_property("pushed_version") == "2"
    assert sorted(os.listdir(serving)) == ["1", "2"]
    assert os.path.exists(os.path.join(serving, "2", "saved_model.pb"))


def test_the_model_already_serving_as_latest_version_is_not_pushed_again(tmp_path):
    serving = str(tmp_path / "serving" / "cats")
    push(tmp_path, serving, blessed=True)
    again = push(tmp_path, serving, blessed=True)  # e.g. a rerun whose Trainer was cached
    assert again.get_int_custom_property("pushed") == 0
    assert again.get_int_custom_property("already_serving_version") == 1
    assert again.get_string_custom_property("already_serving_path") == os.path.join(serving, "1")
    assert os.listdir(serving) == ["1"]


def test_a_model_retrained_from_the_same_data_and_recipe_is_already_serving(tmp_path):
    """What a scheduled Kubeflow run on unchanged data does: it retrains, other bytes."""
    serving = str(tmp_path / "serving" / "cats")
    first = push(tmp_path, serving, True, data_fingerprint="data-1")
    again = push(tmp_path, serving, True, model_name="retrained", data_fingerprint="data-1")
    identity = first.get_string_custom_property("training_identity")
    assert identity and again.get_string_custom_property("training_identity") == identity
    assert again.get_int_custom_property("pushed") == 0
    assert again.get_int_custom_property("already_serving_version") == 1
    assert os.listdir(serving) == ["1"]


@pytest.mark.parametrize(
    "change",
    [
        {"data_fingerprint": "data-2"},  # the data was prepared again
        {"data_fingerprint": "data-1", "recipe": "recipe-2"},  # code or configuration changed
        {},  # an Examples input without fingerprint: compared by content only
        {"data_fingerprint": ""},
    ],
)
def test_other_data_or_recipe_makes_the_retrained_model_a_new_version(tmp_path, change):
    serving = str(tmp_path / "serving" / "cats")
    push(tmp_path, serving, True, data_fingerprint="data-1")
    second = push(tmp_path, serving, True, model_name="retrained", **change)
    assert second.get_string_custom_property("pushed_version") == "2"
    assert sorted(os.listdir(serving)) == ["1", "2"]


def test_an_unblessed_model_is_not_pushed(tmp_path):
    serving = tmp_path / "serving" / "cats"
    pushed = push(tmp_path, str(serving), blessed=False)
    assert pushed.get_int_custom_property("pushed") == 0
    assert not serving.exists()


def test_component_keeps_the_pusher_interface():
    component = VersionedPusher(
        model=tfx.dsl.Channel(type=standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=standard_artifacts.ModelBlessing),
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory="/serving/cats")
        ),
    )
    assert isinstance(component, tfx.components.Pusher)
    assert component.executor_spec.executor_class is Executor
    assert set(component.outputs) == {"pushed_model"}
    with_examples = VersionedPusher(
        model=tfx.dsl.Channel(type=standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=standard_artifacts.ModelBlessing),
        push_destination=tfx.proto.PushDestination(),
        examples=tfx.dsl.Channel(type=standard_artifacts.Examples),
        recipe_fingerprint="recipe-1",
    )
    assert set(with_examples.inputs) == {"model", "model_blessing", "examples"}
    assert '"recipe_fingerprint": "recipe-1"' in with_examples.exec_properties["custom_config"]


def test_a_model_that_failed_the_serving_check_is_not_pushed(tmp_path):
    serving = tmp_path / "serving" / "cats"
    pushed = push(tmp_path, str(serving), blessed=True, serving_check=False)
    assert pushed.get_int_custom_property("pushed") == 0
    assert not serving.exists()


def test_the_warmup_requests_ship_with_the_version_outside_its_digest(tmp_path):
    """The requests are chosen from the test split: the same model checked on other data is
    still the same model (already serving), so the digest leaves them out."""
    from core.serving_layout import WARMUP_FILE, content_digest

    serving = tmp_path / "serving" / "cats"
    push(tmp_path, str(serving), blessed=True, serving_check=True)
    assert (serving / "1" / WARMUP_FILE).read_bytes() == b"requests"
    model = tmp_path / "model" / "Format-Serving"
    assert content_digest(str(serving / "1")) == content_digest(str(model))
    (tmp_path / "serving_check" / "tf_serving_warmup_requests").write_bytes(b"other requests")
    again = push(tmp_path, str(serving), blessed=True, serving_check=True)
    assert again.get_int_custom_property("already_serving_version") == 1
