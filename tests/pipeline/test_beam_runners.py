"""Any Beam runner from the local CLI: its flags and the options it cannot start without (where
bundles run in parallel: tests/components/test_written_examples.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.config import BEAM_RUNNER_REQUIRED_OPTIONS, LOCAL_SETUP_FILE, ConfigError, PipelineConfig
from tests.conftest import REPO_ROOT


def config(**fields) -> PipelineConfig:
    return PipelineConfig.for_profile("sample", **fields)


def test_the_direct_runner_is_the_default_with_its_running_mode():
    args = config().beam_pipeline_args()
    assert args[:3] == [
        "--runner=DirectRunner", "--direct_running_mode=in_memory", "--direct_num_workers=1"
    ]  # fmt: skip
    assert f"--setup_file={LOCAL_SETUP_FILE}" in args


def test_another_runner_gets_its_options_and_the_project_for_its_workers():
    portable = config(
        beam_runner="PortableRunner",
        beam_options="--job_endpoint=localhost:8099 --environment_type=EXTERNAL",
    )
    portable.validate()
    assert portable.beam_pipeline_args() == [
        "--runner=PortableRunner",
        f"--setup_file={LOCAL_SETUP_FILE}",
        "--job_endpoint=localhost:8099",
        "--environment_type=EXTERNAL",
    ]


@pytest.mark.parametrize(("runner", "required"), list(BEAM_RUNNER_REQUIRED_OPTIONS.items())[1:])
def test_a_runner_without_an_option_it_needs_is_refused_naming_it(runner, required):
    with pytest.raises(ConfigError) as error:
        config(beam_runner=runner).validate()
    for option in required:
        assert option in str(error.value)
    assert "--beam-options" in str(error.value)


def test_an_unknown_runner_and_options_without_dashes_are_refused():
    with pytest.raises(ConfigError, match="use one of DirectRunner, PortableRunner"):
        config(beam_runner="FastRunner").validate()
    with pytest.raises(ConfigError, match="write Beam flags as --name=value"):
        config(beam_runner="PortableRunner", beam_options="job_endpoint=x").validate()


def test_the_cli_refuses_dataflow_without_temp_location_before_any_component_runs(tmp_path):
    """As a user types it: `pipeline run` with the runner and some of its options."""
    result = subprocess.run(
        [
            sys.executable, "-m", "pipeline", "run", "--output-dir", str(tmp_path / "out"),
            "--beam-runner", "DataflowRunner", "--beam-options=--project=p --region=europe-west4",
        ],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0
    assert "--beam-runner DataflowRunner needs --temp_location" in result.stderr + result.stdout
    assert not (tmp_path / "out" / "pipeline_root").exists()


def test_a_local_run_on_dataflow_needs_a_pipeline_root_and_data_its_workers_reach(tmp_path):
    from pipeline.preflight import PreflightError, check_inputs

    options = "--project=p --region=r --temp_location=gs://b/tmp"
    local = config(beam_runner="DataflowRunner", beam_options=options, output_dir=str(tmp_path))
    local.validate()  # `kubeflow compile` takes it: the pipeline root is the cluster's
    with pytest.raises(PreflightError) as error:
        check_inputs(local)
    assert "--pipeline-root gs://" in str(error.value) and "--data-dir gs://" in str(error.value)
    assert config(pipeline_root="gs://b/root").pipeline_root == "gs://b/root"
