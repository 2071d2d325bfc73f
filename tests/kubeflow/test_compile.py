"""`python -m kubeflow compile`: the KFP v2 YAML, read back with kfp's own loader.

No cluster runs it here; these tests check the compiled contract that a KFP v2
backend executes: tasks, container commands, Trainer resources and placement.
"""

from __future__ import annotations

import pytest

from core.config import ConfigError, PipelineConfig
from kubeflow.cli import main
from kubeflow.compile import (
    CONTAINER_COMMAND,
    beam_pipeline_args,
    trainer_placement,
    trainer_resources,
)


def test_compiles_offline_into_a_pipeline_spec(compiled):
    spec = compiled.pipeline_spec
    assert spec.pipeline_info.name == "image-transfer-learning"
    assert spec.schema_version == "2.1.0"
    assert spec.default_pipeline_root == "gs://bucket/image-transfer/pipeline_root"


def test_the_dag_has_no_resolver_and_every_executor_is_a_container(compiled):
    tasks = set(compiled.pipeline_spec.root.dag.tasks)
    for prefix in ("TfdsExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer"):
        assert prefix in tasks
    # Task names are component ids: Evaluator and Pusher may be subclasses named after them.
    assert compiled.task("Evaluator") and [t for t in tasks if "Pusher" in t]
    assert not [t for t in tasks if "resolver" in t.lower()]
    executors = compiled.deployment.executors
    assert len(executors) == len(tasks)
    for label, executor in executors.items():
        assert executor.WhichOneof("spec") == "container", label


def test_every_task_runs_the_tfx_v2_entrypoint_in_the_configured_image(compiled):
    for task in compiled.pipeline_spec.root.dag.tasks:
        container = compiled.container(task)
        assert tuple(container.command) == CONTAINER_COMMAND
        assert container.image == "registry.example/tfx-image-transfer:test"
        args = list(container.args)
        assert args[0] == "--executor_class_path"
        assert args[2:4] == ["--json_serialized_invocation_args", "{{$}}"]
        # Pipeline spec 2.1: every executor receives its inputs spec (artifact types).
        assert args[4] == "--json_serialized_inputs_spec_args"


def test_the_trainer_gets_the_configured_limits_and_accelerator(compiled):
    resources = compiled.container("Trainer").resources
    assert resources.cpu_limit == 6.0
    assert resources.resource_cpu_limit == "6"
    assert resources.memory_limit == pytest.approx(24 * 2**30 / 1e9)  # 24Gi in G
    assert resources.resource_memory_limit == "24Gi"
    assert (resources.accelerator.type, resources.accelerator.count) == ("nvidia.com/gpu", 2)
    assert resources.accelerator.resource_type == "nvidia.com/gpu"
    assert resources.accelerator.resource_count == "2"


def test_the_trainer_is_placed_on_the_gpu_node_pool(compiled):
    assert compiled.kubernetes_executors[compiled.executor_label("Trainer")] == {
        "nodeSelector": {"labels": {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}},
        "tolerations": [
            {
                "key": "nvidia.com/gpu",
                "operator": "Equal",
                "value": "present",
                "effect": "NoSchedule",
            },
            {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"},
        ],
    }


def test_only_the_trainer_is_retried_after_a_preemption(compiled):
    tasks = compiled.pipeline_spec.root.dag.tasks
    policy = tasks["Trainer"].retry_policy
    assert policy.max_retry_count == 3 and policy.backoff_duration.seconds == 30
    # Argo counts it from the first attempt's start: the whole training, retries included.
    assert policy.backoff_max_duration.seconds == 48 * 3600  # --trainer-max-hours' default
    # From KFP 2.14.0 Argo reads the factor as an integer.
    assert policy.backoff_factor == 2.0
    assert [name for name, task in tasks.items() if task.HasField("retry_policy")] == ["Trainer"]


def test_the_retry_bound_follows_trainer_max_hours():
    from kubeflow.compile import trainer_retry_policy

    kubeflow = PipelineConfig.for_profile("full", trainer_max_hours=72).kubeflow
    assert trainer_retry_policy(kubeflow)["backoffMaxDuration"] == f"{72 * 3600}s"


def test_only_the_pusher_mounts_the_serving_volume_where_it_publishes(compiled):
    pusher = compiled.executor_label(compiled.task("Pusher"))
    assert compiled.kubernetes_executors[pusher] == {
        "pvcMount": [{"constant": "served-models", "mountPath": "/models"}]
    }
    assert set(compiled.kubernetes_executors) == {
        compiled.executor_label(task) for task in ("Trainer", "Pusher", "BaselineLookup")
    }
    assert "/models/cats_vs_dogs" in compiled.text  # the Pusher's destination


def test_the_baseline_is_looked_up_in_the_configured_cluster_mlmd_in_its_own_namespace(
    compiled,
):
    lookup = compiled.executor_label("BaselineLookup")
    parameters = compiled.pipeline_spec.root.dag.tasks["BaselineLookup"].inputs.parameters
    assert parameters["mlmd_host"].runtime_value.constant.string_value == "mlmd.kubeflow.svc"
    assert parameters["mlmd_port"].runtime_value.constant.number_value == 9090
    # The pod's namespace, from its own metadata (kfp-kubernetes' use_field_path_as_env).
    assert compiled.kubernetes_executors[lookup] == {
        "fieldPathAsEnv": [{"name": "POD_NAMESPACE", "fieldPath": "metadata.namespace"}]
    }


def test_looked_up_answers_are_handed_on_as_parameters_from_the_task_that_produced_them(
    compiled,
):
    """TFX 1.16 names the producer `<id>_task` (a task that does not exist); compile fixes it."""
    tasks = compiled.pipeline_spec.root.dag.tasks
    handed_on = {
        (name, key): (
            parameter.task_output_parameter.producer_task,
            parameter.task_output_parameter.output_parameter_key,
        )
        for name, task in tasks.items()
        for key, parameter in task.inputs.parameters.items()
        if parameter.HasField("task_output_parameter")
    }
    assert handed_on == {
        ("TfdsExampleGen", "data_fingerprint"): ("DataFingerprint", "fingerprint"),
        ("Evaluator", "baseline"): ("BaselineLookup", "baseline"),
    }
    for (consumer, _), (producer, _) in handed_on.items():
        assert producer in tasks[consumer].dependent_tasks


def test_tfx_still_names_parameter_producers_with_a_task_suffix():
    """Canary: the day TFX names them right, `name_parameter_producers` can go."""
    import inspect

    from tfx.orchestration.kubeflow.v2 import step_builder

    assert "producer_component_id + '_task'" in inspect.getsource(step_builder)


BEAM_TASKS = ("TfdsExampleGen", "StatisticsGen", "Transform", "Evaluator")


def test_no_other_task_requests_a_gpu_and_only_beam_tasks_request_resources(compiled):
    for task in set(compiled.pipeline_spec.root.dag.tasks) - {"Trainer"}:
        container = compiled.container(task)
        assert "gpu" not in str(container).lower(), task
        if not task.startswith(BEAM_TASKS):
            assert not container.HasField("resources"), task


def test_beam_tasks_request_the_configured_cpu_and_memory_without_limits(compiled):
    for prefix in BEAM_TASKS:
        resources = compiled.container(compiled.task(prefix)).resources
        assert (resources.resource_cpu_request, resources.cpu_request) == ("3", 3.0), prefix
        assert resources.resource_memory_request == "12Gi", prefix
        assert resources.memory_request == pytest.approx(12 * 2**30 / 1e9), prefix
        assert not (resources.cpu_limit or resources.resource_memory_limit), prefix


def test_only_the_tasks_that_look_at_the_world_are_never_served_from_cache(compiled):
    """KFP's cache key cannot see new data or a new blessed model (kubeflow/README.md): the
    two look-ups run every time, and hand their answers on as parameters to cached tasks."""
    tasks = compiled.pipeline_spec.root.dag.tasks
    uncached = {name for name, task in tasks.items() if not task.caching_options.enable_cache}
    assert uncached == {"DataFingerprint", "BaselineLookup"}


def test_the_trainer_is_told_how_many_gpus_it_must_see(compiled):
    env = {e.name: e.value for e in compiled.container("Trainer").env}
    assert env == {"TRAINER_REQUIRED_GPUS": "2"}


def test_beam_components_get_the_distributed_runner_and_the_setup_file(compiled):
    expected = [
        "--runner=DataflowRunner",
        "--setup_file=/pipeline/setup.py",
        "--project=proj",
        "--region=europe-west4",
        "--temp_location=gs://bucket/tmp",
    ]
    for prefix in ("TfdsExampleGen", "StatisticsGen", "Transform", "Evaluator"):
        task = compiled.task(prefix)
        assert list(compiled.container(task).args)[-len(expected) :] == expected, task


def test_module_code_is_referenced_by_dotted_path_not_uploaded(compiled):
    assert "trainer_module.preprocessing.preprocessing_fn" in compiled.text
    assert "trainer_module.run.run_fn" in compiled.text
    assert "module_file" not in compiled.text and ".whl" not in compiled.text


def test_direct_runner_is_the_default_and_keeps_the_local_beam_settings():
    """The image's setup.py, not this checkout's: the flags run inside the task's container."""
    config = PipelineConfig.for_profile("full")
    assert beam_pipeline_args(config) == config.beam_pipeline_args("/pipeline/setup.py")
    assert "--setup_file=/pipeline/setup.py" in beam_pipeline_args(config)


def test_a_cpu_trainer_requests_no_accelerator_and_no_gpu_placement():
    kubeflow = PipelineConfig.for_profile("full", trainer_gpus=0).kubeflow
    assert not trainer_resources(kubeflow).HasField("accelerator")
    assert trainer_placement(kubeflow) == {}


def test_local_locations_are_refused_before_compiling(tmp_path, capsys):
    output = tmp_path / "p.yaml"
    assert main(["compile", "--output", str(output)]) == 2
    error = capsys.readouterr().err
    assert "--output-dir 'outputs' is a local path" in error
    assert "--data-dir 'data/tfds' is a local path" in error
    assert "--serving-dir" in error and "--serving-pvc" in error
    assert not output.exists()


def test_the_last_task_writes_the_run_report_as_an_html_artifact_the_kfp_ui_shows(compiled):
    task = compiled.pipeline_spec.root.dag.tasks[compiled.task("RunReport")]
    sources = {
        key: (
            spec.task_output_artifact.producer_task,
            spec.task_output_artifact.output_artifact_key,
        )
        for key, spec in task.inputs.artifacts.items()
    }
    assert sources == {
        "examples": (compiled.task("TfdsExampleGen"), "examples"),
        "model": ("Trainer", "model"),
        "evaluation": ("Evaluator", "evaluation"),
        "blessing": ("Evaluator", "blessing"),
    }
    outputs = compiled.pipeline_spec.components[task.component_ref.name].output_definitions
    assert outputs.artifacts["report"].artifact_type.schema_title == "system.HTML" or (
        "title: system.HTML" in outputs.artifacts["report"].artifact_type.instance_schema
    )
    args = list(compiled.container("RunReport").args)
    assert args[1] == "pipeline.report.component.Executor"


def test_a_bucket_serving_dir_needs_no_volume_and_the_pusher_claims_versions_in_the_clusters_mlmd(
    tmp_path,
):
    from kubeflow.compile import compile_pipeline
    from tests.kubeflow.kfp_replay import CompiledPackage

    bucket = PipelineConfig.for_profile(
        "full",
        output_dir="gs://bucket/image-transfer",
        data_dir="gs://bucket/tfds",
        serving_dir="gs://bucket/models",
        kfp_mlmd_host="mlmd.kubeflow.svc",
    )
    package = CompiledPackage.load(compile_pipeline(bucket, str(tmp_path / "p.yaml")))
    assert package.kubernetes_config("Pusher") == {}  # nothing mounted
    parameters = package.pipeline_spec.root.dag.tasks["Pusher"].inputs.parameters
    assert parameters["mlmd_host"].runtime_value.constant.string_value == "mlmd.kubeflow.svc"
    assert "gs://bucket/models/cats_vs_dogs" in (tmp_path / "p.yaml").read_text()
    with pytest.raises(ConfigError, match="a volume is mounted at a path"):
        compile_pipeline(bucket.replace(serving_pvc="models"), str(tmp_path / "q.yaml"))


def test_a_scheme_no_file_system_reads_is_refused_naming_the_flag():
    with pytest.raises(ConfigError, match="--serving-dir 'ftp://host/models': ftp://"):
        PipelineConfig.for_profile("full", serving_dir="ftp://host/models")
