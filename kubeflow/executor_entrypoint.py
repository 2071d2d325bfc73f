"""Container entrypoint of every task: TFX's v2 entrypoint, after repairing the input artifacts.

TFX's `kubeflow_v2_run_executor` was written against Vertex AI's driver. The
open-source KFP v2 driver resolves input artifacts from its ML Metadata store and
hands them over without the type TFX compiled (an empty `instanceSchema`, or a
`system.*` title such as `system.Dataset`). TFX then builds the wrong artifact class,
or none at all, and the `split_names` property that every split-aware executor reads
is lost (SchemaGen: "No input splits for stats artifact"). See kubeflow/README.md.

This entrypoint takes the same arguments, and before handing over to TFX:
1. gives every input artifact the type declared in the component's inputs spec
   (`--json_serialized_inputs_spec_args`, compiled with pipeline spec 2.1);
2. restores `split_names` of split-aware artifacts that lack them from the
   artifact's directory, where TFX writes one `Split-<name>` folder per split.

It also tells TFX which class writes the KFP-native `system.HTML` artifact of the
RunReport component: TFX otherwise reads a custom type's title as its import path.

Outputs the launcher adds for itself are set aside before TFX sees them. Since KFP
2.5.0 the driver gives every container task an `executor-logs` output of type
`system.Artifact` (backend/src/v2/driver/driver.go, provisionOutputs; on by default,
`--publish_logs=true`), into which the launcher tees the task's stdout and stderr and
which it uploads and records itself. TFX builds a class for every output of the
ExecutorInput and cannot import `system.Artifact`, so every task would fail at start.
The launcher never needs such an output in the executor's output file
(component/launcher_v2.go, uploadOutputArtifacts: it merges only what the file names).

After TFX's executor, this removes the GCS directory markers from the outputs
(kubeflow/gcs_markers.py), which would break the next task's input download.
"""

from __future__ import annotations

import argparse
import logging

import yaml
from absl import app
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.dsl.io import fileio
from tfx.orchestration.kubeflow.v2 import compiler_utils
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor
from tfx.types import artifact_utils

from kubeflow.gcs_markers import remove_directory_markers
from pipeline.report.component import HtmlReport

SPLIT_NAMES = "split_names"
_SPLIT_DIR_PREFIX = "Split-"

compiler_utils.TITLE_TO_CLASS_PATH.setdefault(
    HtmlReport.TYPE_NAME, f"{HtmlReport.__module__}.{HtmlReport.__name__}"
)


def restore_input_artifacts(
    executor_input: pipeline_spec_pb2.ExecutorInput,
    inputs_spec: pipeline_spec_pb2.ComponentInputsSpec,
) -> list[str]:
    """Repairs `executor_input` in place; returns one line per repair, for the task log."""
    repairs = []
    for key, artifact_list in executor_input.inputs.artifacts.items():
        declared = (
            inputs_spec.artifacts[key].artifact_type if key in inputs_spec.artifacts else None
        )
        for artifact in artifact_list.artifacts:
            if declared is not None and artifact.type != declared:
                repairs.append(
                    f"{key}: type {json_format.MessageToDict(artifact.type) or 'none'} -> "
                    f"{_title(declared)} (from the inputs spec)"
                )
                artifact.type.CopyFrom(declared)
            if _has_split_names(artifact.type) and not _metadata_split_names(artifact):
                splits = splits_in_directory(artifact.uri)
                artifact.metadata[SPLIT_NAMES] = artifact_utils.encode_split_names(splits)
                repairs.append(f"{key}: split_names {splits} (from {artifact.uri})")
    return repairs


def set_aside_launcher_outputs(executor_input: pipeline_spec_pb2.ExecutorInput) -> list[str]:
    """Removes the outputs no TFX class writes (KFP's `executor-logs`, any other `system.*`
    title TFX has no class for) from `executor_input`; returns one line each, for the log.

    They stay the launcher's: it writes, uploads and records them whatever the executor's
    output file says.
    """
    outputs = executor_input.outputs.artifacts
    set_aside = [
        key
        for key, artifact_list in outputs.items()
        if artifact_list.artifacts
        and all(_is_launcher_owned(artifact.type) for artifact in artifact_list.artifacts)
    ]
    for key in set_aside:
        del outputs[key]
    return [f"{key} (left to the KFP launcher)" for key in sorted(set_aside)]


def _is_launcher_owned(artifact_type: pipeline_spec_pb2.ArtifactTypeSchema) -> bool:
    """A KFP system type that TFX maps to none of its classes (`system.Artifact`, ...)."""
    title = _title(artifact_type)
    return title.startswith("system.") and title not in compiler_utils.TITLE_TO_CLASS_PATH


def splits_in_directory(uri: str) -> list[str]:
    """Split names of an artifact from its `Split-<name>` folders, sorted."""
    names = (entry.rstrip("/") for entry in fileio.listdir(uri))
    return sorted(n[len(_SPLIT_DIR_PREFIX) :] for n in names if n.startswith(_SPLIT_DIR_PREFIX))


def main(parsed_argv: tuple[argparse.Namespace, list[str]]) -> None:
    args, beam_args = parsed_argv
    executor_input = pipeline_spec_pb2.ExecutorInput()
    json_format.Parse(
        args.json_serialized_invocation_args, executor_input, ignore_unknown_fields=True
    )
    inputs_spec = pipeline_spec_pb2.ComponentInputsSpec()
    if args.json_serialized_inputs_spec_args:
        json_format.Parse(
            args.json_serialized_inputs_spec_args, inputs_spec, ignore_unknown_fields=True
        )
    for repair in restore_input_artifacts(executor_input, inputs_spec):
        logging.warning("repaired input artifact %s", repair)
    for output in set_aside_launcher_outputs(executor_input):
        logging.info("output artifact %s", output)
    args.json_serialized_invocation_args = json_format.MessageToJson(executor_input)
    kubeflow_v2_run_executor.main((args, beam_args))
    remove_directory_markers(
        artifact.uri
        for artifact_list in executor_input.outputs.artifacts.values()
        for artifact in artifact_list.artifacts
    )


def _title(artifact_type: pipeline_spec_pb2.ArtifactTypeSchema) -> str:
    if artifact_type.WhichOneof("kind") == "instance_schema":
        return (yaml.safe_load(artifact_type.instance_schema) or {}).get("title", "")
    return artifact_type.schema_title


def _has_split_names(artifact_type: pipeline_spec_pb2.ArtifactTypeSchema) -> bool:
    if artifact_type.WhichOneof("kind") != "instance_schema":
        return False
    schema = yaml.safe_load(artifact_type.instance_schema) or {}
    return SPLIT_NAMES in (schema.get("properties") or {})


def _metadata_split_names(artifact: pipeline_spec_pb2.RuntimeArtifact) -> str:
    if SPLIT_NAMES in artifact.metadata.fields:
        value = artifact.metadata[SPLIT_NAMES]
        return value if isinstance(value, str) and value not in ("", "[]") else ""
    if SPLIT_NAMES in artifact.properties:
        return artifact.properties[SPLIT_NAMES].string_value
    return ""


if __name__ == "__main__":
    app.run(main, flags_parser=kubeflow_v2_run_executor._parse_flags)  # noqa: SLF001 - same flags as TFX
