"""The rules the replay harness ports from KFP's Go backend, checked one by one (no run).

Each expected value is what the cited Go function produces for that input.
"""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2 as spec_pb2

from tests.kubeflow.kfp_replay import (
    cache_key,
    compile_command,
    fingerprint_of,
    generate_output_uri,
    go_json,
    schema_title,
    struct_value_to_mlmd_value,
    to_mlmd_artifact,
)

MODEL_SCHEMA = "title: tfx.Model\ntype: object\n"


def _value(**kind) -> struct_pb2.Value:
    return struct_pb2.Value(**kind)


def test_json_numbers_become_doubles_and_bools_ints():
    """converter.go StructValueToMLMDValue: TFX's `blessed: 1` arrives as double_value 1.0."""
    assert struct_value_to_mlmd_value(_value(number_value=1)).WhichOneof("value") == (
        "double_value"
    )
    assert struct_value_to_mlmd_value(_value(bool_value=True)).int_value == 1
    assert struct_value_to_mlmd_value(_value(string_value="x")).string_value == "x"
    listed = struct_value_to_mlmd_value(
        _value(list_value=struct_pb2.ListValue(values=[_value(number_value=2)]))
    )
    assert list(listed.struct_value["list"]) == [2.0]  # wrapped in {"list": [...]}


def test_kfp_workspace_flag_is_not_recorded():
    artifact = spec_pb2.RuntimeArtifact(uri="gs://b/x")
    artifact.metadata["_kfp_workspace"] = True
    artifact.metadata["blessed"] = 1
    assert set(to_mlmd_artifact(artifact).custom_properties) == {"blessed"}


def test_output_uris_keep_the_scheme_and_join_like_path_join():
    assert generate_output_uri("gs://bucket/root/", ["p", "run-1"]) == "gs://bucket/root/p/run-1"
    assert generate_output_uri("/tmp/root", ["Trainer/", "./model"]) == "/tmp/root/Trainer/model"


def test_artifact_types_are_named_after_the_schema_title():
    assert schema_title(MODEL_SCHEMA) == "tfx.Model"
    with pytest.raises(ValueError, match="no title"):
        schema_title("type: object\n")


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (8080.0, "8080"),
        (1e-05, "0.00001"),
        (1e-07, "1e-7"),
        (1.5e21, "1.5e+21"),
        (-0.25, "-0.25"),
        (True, "true"),
        ("a<b&c>", '"a\\u003cb\\u0026c\\u003e"'),
        ({"b": [1.0, None], "a": "é"}, '{"a":"é","b":[1,null]}'),
    ],
)
def test_go_json_encoding_of_the_cache_key(value, encoded):
    """encoding/json Marshal: sorted keys, no spaces, HTML-safe, shortest float64 forms."""
    assert go_json(value) == encoded


def _executor_input(examples_id: str, uri: str) -> spec_pb2.ExecutorInput:
    executor_input = spec_pb2.ExecutorInput()
    executor_input.inputs.artifacts["examples"].artifacts.add(name=examples_id, uri="gs://b/e")
    executor_input.inputs.parameter_values["exclude_splits"].string_value = "[]"
    outputs = executor_input.outputs.artifacts["statistics"].artifacts
    output = outputs.add(name="statistics", uri=uri)
    output.type.instance_schema = MODEL_SCHEMA
    return executor_input


def _fingerprint(executor_input, image="img:1", pvcs=()) -> str:
    container = spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec(
        image=image, command=["python"], args=["{{$}}"]
    )
    return fingerprint_of(cache_key(executor_input, spec_pb2.ComponentSpec(), container, pvcs))


def test_the_cache_key_ignores_output_uris_and_sees_input_ids_image_and_volumes():
    """cache.go GenerateCacheKey: outputs without URI; inputs by MLMD id; image, PVC names."""
    first = _fingerprint(_executor_input("7", "gs://b/run-1/Stats/uuid-1/statistics"))
    assert first == _fingerprint(_executor_input("7", "gs://b/run-2/Stats/uuid-2/statistics"))
    assert first != _fingerprint(_executor_input("8", "gs://b/run-1/Stats/uuid-1/statistics"))
    same_inputs = _executor_input("7", "gs://b/x")
    assert first != _fingerprint(same_inputs, image="img:2")
    assert first != _fingerprint(same_inputs, pvcs=["served-models"])


def test_placeholders_are_filled_like_the_launcher():
    executor_input = _executor_input("7", "gs://b/out")
    examples = "{{$.inputs.artifacts['examples'].uri}}"
    splits = "{{$.inputs.parameters['exclude_splits']}}"
    command = compile_command(executor_input, ["run", examples, splits])
    assert command == ["run", "gs://b/e", "[]"]
