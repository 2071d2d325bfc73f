"""The kubeflow section of PipelineConfig: flags, validation, cluster locations."""

from __future__ import annotations

import argparse

import pytest

from core.config import ConfigError, PipelineConfig
from kubeflow.config_checks import check_kubeflow_config, parse_node_selector, parse_tolerations
from kubeflow.locations import check_cluster_locations
from pipeline.flags import add_config_arguments, config_from_args


def test_every_kubeflow_field_is_a_flag():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    args = parser.parse_args(
        ["--trainer-gpus", "4", "--beam-runner", "FlinkRunner",
         "--beam-options=--flink_master=flink:8081",  # "=": the value starts with "--"
         "--kfp-namespace", "team-a", "--max-concurrency", "2"]
    )  # fmt: skip
    config = config_from_args(args)
    kubeflow = config.kubeflow
    assert (kubeflow.trainer_gpus, config.runner.beam_runner) == (4, "FlinkRunner")
    assert (kubeflow.kfp_namespace, kubeflow.max_concurrency) == ("team-a", 2)
    assert config.runner.beam_options == "--flink_master=flink:8081"


def test_invalid_kubeflow_settings_are_all_reported_with_their_flags():
    with pytest.raises(ConfigError) as raised:
        check_kubeflow_config(
            PipelineConfig.for_profile(
                "full",
                trainer_cpu="lots",
                trainer_memory="32 GB",
                trainer_gpus=-1,
                gpu_node_selector="pool",
                gpu_tolerations="nvidia.com/gpu:Sometimes",
                cron="0 3 * * *",
                max_concurrency=0,
                image="",
            )
        )
    message = str(raised.value)
    for expected in (
        "--trainer-cpu 'lots'",
        "--trainer-memory '32 GB'",
        "--trainer-gpus -1",
        "--gpu-node-selector: 'pool' is not label=value",
        "--gpu-tolerations: 'nvidia.com/gpu:Sometimes'",
        "--cron '0 3 * * *'",
        "--max-concurrency 0",
        "--image ''",
    ):
        assert expected in message


def test_a_local_run_does_not_validate_the_kubeflow_section():
    """Local runs ignore the section, so a bad cron there must not stop them."""
    config = PipelineConfig.for_profile("sample", cron="0 3 * * *", trainer_cpu="lots")
    assert config.kubeflow.cron == "0 3 * * *"
    with pytest.raises(ConfigError, match="--cron"):
        check_kubeflow_config(config)


def test_node_selector_and_tolerations_use_kubernetes_terms():
    assert parse_node_selector("a=b, pool=gpu") == {"a": "b", "pool": "gpu"}
    assert parse_node_selector("") == {}
    assert parse_tolerations("nvidia.com/gpu:NoSchedule,team=ml:NoExecute") == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "team", "operator": "Equal", "effect": "NoExecute", "value": "ml"},
    ]


def test_bucket_locations_stay_uris_and_local_paths_become_absolute(tmp_path):
    remote = PipelineConfig.for_profile(
        "full",
        output_dir="gs://b/run/",
        data_dir="gs://b/tfds",
        serving_dir="/models",
        serving_pvc="models",
    )
    assert remote.pipeline_root == "gs://b/run/pipeline_root"
    assert remote.data_dir == "gs://b/tfds"
    check_cluster_locations(remote)
    local = PipelineConfig.for_profile("full", output_dir=str(tmp_path))
    assert local.pipeline_root == str(tmp_path / "pipeline_root")
    with pytest.raises(ConfigError, match="--output-dir .* is a local path"):
        check_cluster_locations(local)


def test_pushed_models_go_to_a_bucket_or_a_mounted_volume():
    """A pod path without a claim is lost with the pod; a claim is mounted at a path, not a URI."""
    cluster = {"output_dir": "gs://b/run", "data_dir": "gs://b/tfds"}
    unmounted = PipelineConfig.for_profile("full", **cluster, serving_dir="/models")
    with pytest.raises(ConfigError, match="--serving-dir .*gs://BUCKET/models.*--serving-pvc"):
        check_cluster_locations(unmounted)
    # By default versions go next to the runs, in the bucket: <output dir>/serving.
    check_cluster_locations(PipelineConfig.for_profile("full", **cluster))
    both = PipelineConfig.for_profile(
        "full", **cluster, serving_dir="gs://b/serving", serving_pvc="models"
    )
    with pytest.raises(ConfigError, match="--serving-pvc 'models' with the bucket"):
        check_cluster_locations(both)
    check_cluster_locations(
        PipelineConfig.for_profile("full", **cluster, serving_dir="/models", serving_pvc="m")
    )
