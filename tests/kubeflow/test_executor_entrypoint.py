"""The task entrypoint repairs input artifacts as the open-source KFP v2 driver delivers them.

The KFP driver cannot run here, so each test builds the ExecutorInput the way that
driver hands it over (type lost, no `split_names`) and runs a real TFX executor
(SchemaGen, on a statistics artifact written to disk) through TFX's own v2 entrypoint
and through ours, with the exact arguments the compiled pipeline gives SchemaGen.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor

from kubeflow import executor_entrypoint

SPLITS = ["eval", "train"]
STATISTICS_TYPE = (
    "title: tfx.ExampleStatistics\ntype: object\nproperties:\n  span:\n    type: integer\n"
    "  split_names:\n    type: string\n"
)


def _write_statistics(uri: Path) -> None:
    """What StatisticsGen leaves behind: one Split-<name>/FeatureStats.pb per split."""
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = stats.datasets.add(num_examples=10)
    feature = dataset.features.add()
    feature.path.step.append("label")
    feature.type = statistics_pb2.FeatureNameStatistics.INT
    feature.num_stats.common_stats.num_non_missing = 10
    feature.num_stats.common_stats.min_num_values = 1
    feature.num_stats.common_stats.max_num_values = 1
    for split in SPLITS:
        (uri / f"Split-{split}").mkdir(parents=True)
        (uri / f"Split-{split}" / "FeatureStats.pb").write_bytes(stats.SerializeToString())


def _executor_input(tmp_path: Path, statistics_type: dict) -> str:
    """An ExecutorInput shaped like the open-source KFP v2 driver's: no split_names."""
    _write_statistics(tmp_path / "statistics")
    return json.dumps(
        {
            "inputs": {
                "artifacts": {
                    "statistics": {
                        "artifacts": [
                            {
                                "name": "metadata://default/artifacts/7",
                                "uri": str(tmp_path / "statistics"),
                                "type": statistics_type,
                                "metadata": {"tfx_version": "1.16.0"},
                            }
                        ]
                    }
                },
                "parameterValues": {"infer_feature_shape": 1, "exclude_splits": "[]"},
            },
            "outputs": {
                "artifacts": {
                    "schema": {
                        "artifacts": [
                            {
                                "name": "metadata://default/artifacts/8",
                                "uri": str(tmp_path / "schema"),
                                "type": {"instanceSchema": "title: tfx.Schema\ntype: object\n"},
                            }
                        ]
                    }
                },
                "outputFile": str(tmp_path / "task" / "executor_output.json"),
            },
        }
    )


def _schema_gen_argv(compiled, executor_input: str) -> list[str]:
    """SchemaGen's container args from the compiled pipeline, with the input filled in."""
    args = list(compiled.container("SchemaGen").args)
    return [executor_input if a == "{{$}}" else a for a in args]


@pytest.mark.parametrize(
    ("statistics_type", "tfx_failure", "message"),
    [
        # type reduced to a KFP system type
        ({"schemaTitle": "system.Artifact"}, ImportError, "Could not import system.Artifact"),
        # type dropped
        ({"instanceSchema": ""}, AttributeError, "'NoneType' object has no attribute 'get'"),
        # type kept, split_names dropped
        ({"instanceSchema": STATISTICS_TYPE}, ValueError, "No input splits for stats artifact"),
    ],
    ids=["system-title", "no-type", "no-split-names"],
)
def test_tfx_entrypoint_fails_and_ours_runs_schema_gen(
    compiled, tmp_path, statistics_type, tfx_failure, message
):
    argv = _schema_gen_argv(compiled, _executor_input(tmp_path, statistics_type))

    with pytest.raises(tfx_failure, match=message):
        kubeflow_v2_run_executor.main(kubeflow_v2_run_executor._parse_flags(argv))
    assert not (tmp_path / "schema" / "schema.pbtxt").exists()

    executor_entrypoint.main(kubeflow_v2_run_executor._parse_flags(argv))
    assert 'name: "label"' in (tmp_path / "schema" / "schema.pbtxt").read_text()
    output = json.loads((tmp_path / "task" / "executor_output.json").read_text())
    assert output["artifacts"]["schema"]["artifacts"][0]["uri"] == str(tmp_path / "schema")


def test_intact_artifacts_are_left_as_they_are(compiled, tmp_path):
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    executor_input = json_format.Parse(
        _executor_input(tmp_path, {"instanceSchema": STATISTICS_TYPE}),
        pipeline_spec_pb2.ExecutorInput(),
    )
    statistics = executor_input.inputs.artifacts["statistics"].artifacts[0]
    statistics.metadata["split_names"] = '["train"]'
    inputs_spec = json_format.Parse(
        _schema_gen_argv(compiled, "")[5], pipeline_spec_pb2.ComponentInputsSpec()
    )
    statistics.type.CopyFrom(inputs_spec.artifacts["statistics"].artifact_type)

    assert executor_entrypoint.restore_input_artifacts(executor_input, inputs_spec) == []
    assert statistics.metadata["split_names"] == '["train"]'


def test_splits_come_from_the_split_folders_sorted(tmp_path):
    for name in ("train", "eval", "test"):
        (tmp_path / f"Split-{name}").mkdir()
    (tmp_path / "executor_output.json").write_text("{}")
    assert executor_entrypoint.splits_in_directory(str(tmp_path)) == ["eval", "test", "train"]


def test_the_run_reports_kfp_html_artifact_is_built_as_our_tfx_class():
    from kfp.pipeline_spec import pipeline_spec_pb2
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
    from tfx.utils import import_utils

    from pipeline.report.component import HtmlReport

    compiled_type = pipeline_spec_pb2.ArtifactTypeSchema(
        instance_schema="title: system.HTML\ntype: object\n"
    )
    path = kubeflow_v2_entrypoint_utils._retrieve_class_path(compiled_type)  # noqa: SLF001
    assert import_utils.import_class_by_path(path) is HtmlReport


def test_kfp_executor_logs_output_fails_tfx_and_is_left_to_the_launcher_by_ours(compiled, tmp_path):
    """KFP >= 2.5.0 gives every container task an `executor-logs` output of type
    `system.Artifact` (driver.go, provisionOutputs), which TFX cannot build a class for."""
    executor_input = json.loads(_executor_input(tmp_path, {"instanceSchema": STATISTICS_TYPE}))
    executor_input["inputs"]["artifacts"]["statistics"]["artifacts"][0]["metadata"][
        "split_names"
    ] = json.dumps(SPLITS)
    logs = {"uri": str(tmp_path / "executor-logs"), "type": {"schemaTitle": "system.Artifact"}}
    executor_input["outputs"]["artifacts"]["executor-logs"] = {"artifacts": [logs]}
    argv = _schema_gen_argv(compiled, json.dumps(executor_input))

    with pytest.raises(ImportError, match="Could not import system.Artifact"):
        kubeflow_v2_run_executor.main(kubeflow_v2_run_executor._parse_flags(argv))
    assert not (tmp_path / "schema" / "schema.pbtxt").exists()

    executor_entrypoint.main(kubeflow_v2_run_executor._parse_flags(argv))
    assert 'name: "label"' in (tmp_path / "schema" / "schema.pbtxt").read_text()
    output = json.loads((tmp_path / "task" / "executor_output.json").read_text())
    # The launcher uploads and records the log itself; the executor's file need not name it.
    assert set(output["artifacts"]) == {"schema"}
    assert not (tmp_path / "executor-logs").exists()


def test_only_system_types_tfx_has_no_class_for_are_set_aside():
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    executor_input = json_format.ParseDict(
        {
            "outputs": {
                "artifacts": {
                    "executor-logs": {"artifacts": [{"type": {"schemaTitle": "system.Artifact"}}]},
                    "metrics": {"artifacts": [{"type": {"schemaTitle": "system.Metrics"}}]},
                    "report": {"artifacts": [{"type": {"schemaTitle": "system.HTML"}}]},
                    "model": {"artifacts": [{"type": {"instanceSchema": "title: tfx.Model\n"}}]},
                }
            }
        },
        pipeline_spec_pb2.ExecutorInput(),
    )
    set_aside = executor_entrypoint.set_aside_launcher_outputs(executor_input)
    assert set_aside == [
        "executor-logs (left to the KFP launcher)",
        "metrics (left to the KFP launcher)",
    ]
    # system.HTML is the RunReport's, written by our TFX class; tfx.Model is TFX's own.
    assert set(executor_input.outputs.artifacts) == {"report", "model"}
