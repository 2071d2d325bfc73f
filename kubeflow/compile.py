"""Compiles the pipeline into a Kubeflow Pipelines v2 YAML with TFX's KubeflowV2DagRunner.

The DAG is whatever `pipeline.create.create_pipeline` returns for the Kubeflow variant
(no Resolver node: open-source KFP cannot execute resolver executors). On top of
TFX's compilation this module adds what the TFX compiler cannot express:

- the pipeline root as `defaultPipelineRoot`, because TFX keeps it only in the
  runtime config, which its YAML output drops;
- the GPU node pool placement of the Trainer (node selector and tolerations) as the
  Kubernetes `PlatformSpec` document that `kfp-kubernetes` writes, appended to the YAML;
- per-task policies (`apply_task_policies`): no caching for the tasks that look at the
  world rather than at their inputs, a retry policy for the Trainer, CPU/memory
  requests for the Beam-powered tasks, and the GPU count the Trainer must see;
- the baseline lookup's own namespace, from the pod's metadata (`fieldPathAsEnv`);
- the producer task names of parameters passed between tasks, which TFX 1.16 writes
  with a `_task` suffix no task has (`name_parameter_producers`).

The Trainer's CPU, memory and accelerator limits are a `ResourceSpec`, which the TFX
compiler does carry (`with_platform_config`).
"""

from __future__ import annotations

import io
import os

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.dsl.components.base.executor_spec import BeamExecutorSpec
from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner
from tfx.orchestration.pipeline import Pipeline

from components.latest_blessed_model.executor import NAMESPACE_ENV
from core.config import ConfigError, KubeflowConfig, PipelineConfig
from core.metadata.store import Target
from kubeflow.config_checks import (
    check_kubeflow_config,
    parse_node_selector,
    parse_tolerations,
)
from kubeflow.locations import check_cluster_locations
from pipeline.create import TRAINER_ID, create_pipeline
from trainer_module.devices import REQUIRED_GPUS_ENV

# Every task runs this module, which restores what the open-source KFP launcher
# drops from input artifacts and then runs TFX's own v2 entrypoint
# (tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor).
CONTAINER_COMMAND = ("python", "-m", "kubeflow.executor_entrypoint")
PUSHER_ID = "Pusher"
BASELINE_LOOKUP_ID = "BaselineLookup"
# KFP's cache key is the input artifact ids, the parameters, the image and the command
# (kubeflow/pipelines backend/src/v2/cacheutils/cache.go, GenerateCacheKey). These two
# tasks have no input artifacts and constant parameters, yet their answer changes: the
# prepared data's fingerprint, and the latest blessed model. Cached, every scheduled run
# after the first would keep the first run's answers. Each hands its answer on as a
# parameter, so the tasks that read the data (TfdsExampleGen) and copy the baseline
# (LatestBlessedModel) stay cached while the answer is the same, and with them
# everything downstream: an unchanged scheduled run executes these two only.
UNCACHED_TASKS = ("DataFingerprint", BASELINE_LOOKUP_ID)
# What TFX 1.16's v2 step builder appends to a parameter's producer task name
# (tfx/orchestration/kubeflow/v2/step_builder.py: `producer_component_id + '_task'`),
# although it names each task after its component id.
_TFX_PRODUCER_SUFFIX = "_task"
ResourceSpec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec

_MEMORY_UNITS_IN_G = {
    "E": 1e9, "P": 1e6, "T": 1e3, "G": 1.0, "M": 1e-3, "K": 1e-6,
    "Ei": 2**60 / 1e9, "Pi": 2**50 / 1e9, "Ti": 2**40 / 1e9,
    "Gi": 2**30 / 1e9, "Mi": 2**20 / 1e9, "Ki": 2**10 / 1e9,
}  # fmt: skip


def beam_pipeline_args(config: PipelineConfig) -> list[str]:
    """Beam flags for the Beam-powered components, with the image's setup.py
    (`PipelineConfig.beam_pipeline_args`: the DirectRunner in each task's pod, or the
    configured runner's workers)."""
    return config.beam_pipeline_args(config.kubeflow.beam_setup_file)


def trainer_resources(kubeflow: KubeflowConfig) -> ResourceSpec:
    """The Trainer's limits in both encodings KFP backends read (like the kfp SDK writes them).

    Older backends read the numeric fields (`cpuLimit` in cores, `memoryLimit` in G,
    `accelerator.type/count`); newer ones the string fields (`resourceCpuLimit`, ...).
    """
    spec = ResourceSpec(
        cpu_limit=_cores(kubeflow.trainer_cpu),
        memory_limit=_gigabytes(kubeflow.trainer_memory),
        resource_cpu_limit=kubeflow.trainer_cpu,
        resource_memory_limit=kubeflow.trainer_memory,
    )
    if kubeflow.trainer_gpus > 0:
        spec.accelerator.type = kubeflow.trainer_accelerator
        spec.accelerator.count = kubeflow.trainer_gpus
        spec.accelerator.resource_type = kubeflow.trainer_accelerator
        spec.accelerator.resource_count = str(kubeflow.trainer_gpus)
    return spec


def trainer_placement(kubeflow: KubeflowConfig) -> dict:
    """The Trainer's node selector and tolerations in kfp-kubernetes' KubernetesExecutorConfig.

    They only make sense for a GPU Trainer: with no GPU requested it may run anywhere.
    """
    if kubeflow.trainer_gpus == 0:
        return {}
    placement: dict = {}
    labels = parse_node_selector(kubeflow.gpu_node_selector)
    if labels:
        placement["nodeSelector"] = {"labels": labels}
    tolerations = parse_tolerations(kubeflow.gpu_tolerations)
    if tolerations:
        placement["tolerations"] = tolerations
    return placement


def trainer_retry_policy(kubeflow: KubeflowConfig) -> dict:
    """KFP's retryPolicy for the Trainer task: a preempted GPU node costs one epoch, not the run.

    A retried pod runs the same Trainer with the same inputs, so it finds the backup
    of its last finished epoch (`trainer_module.resume`) and continues there. The first
    retry waits 30 s (time for the node pool to replace the node), then 60 s, 120 s...

    `backoffMaxDuration` is `--trainer-max-hours`, and must cover the whole training.
    KFP compiles it to Argo's `retryStrategy.backoff.maxDuration`
    (backend/src/v2/compiler/argocompiler/container.go, from 2.4.1), which Argo measures
    from the start of the FIRST attempt (workflow/controller/operator.go,
    processNodeRetries): past it no retry starts, and a retried pod gets it as its
    deadline (ARGO_DEADLINE) and is stopped there. The kfp SDK's default of one hour
    would end every retry of a training that had run for an hour. Leaving it out does
    not help: from KFP 2.14.0 an absent value compiles to "0", no retry at all.
    The factor must be a whole number: from 2.14.0 Argo reads it as an integer.
    """
    return {
        "maxRetryCount": kubeflow.trainer_retries,
        "backoffDuration": "30s",
        "backoffFactor": 2.0,
        "backoffMaxDuration": f"{kubeflow.trainer_max_hours * 3600}s",
    }


def own_namespace() -> dict:
    """The baseline lookup's namespace from its pod's metadata (kfp-kubernetes'
    `use_field_path_as_env`; KFP's driver applies it from 2.1.0, driver.go/k8s.go), so it
    finds only its own team's models in KFP's shared ML Metadata store."""
    return {"fieldPathAsEnv": [{"name": NAMESPACE_ENV, "fieldPath": "metadata.namespace"}]}


def serving_volume(config: PipelineConfig) -> dict:
    """The Pusher's mount of the serving volume, in kfp-kubernetes' KubernetesExecutorConfig
    ({} for a bucket, which the Pusher writes through the network)."""
    if not config.kubeflow.serving_pvc:
        return {}
    return {
        "pvcMount": [{"constant": config.kubeflow.serving_pvc, "mountPath": config.serving_dir}]
    }


def build_kubeflow_pipeline(config: PipelineConfig) -> Pipeline:
    """The pipeline of the Kubeflow variant, with the Trainer's resource limits attached.

    Args:
        config: a validated configuration (its Kubeflow section too).

    Returns:
        The TFX Pipeline: no Resolver (open-source KFP cannot run one), the baseline
        looked up in the cluster's ML Metadata instead, Beam flags for the configured runner.
    """
    pipeline = create_pipeline(
        config,
        include_resolver=False,
        # Replaces the Resolver: finds the latest blessed model in the cluster's MLMD.
        baseline_lookup=Target(
            host=config.kubeflow.kfp_mlmd_host, port=config.kubeflow.kfp_mlmd_port
        ),
        beam_pipeline_args=beam_pipeline_args(config),
        custom_label_validation=False,  # not compilable for KFP v2 (see create_pipeline)
        run_report=True,  # nobody is there after a cluster run: the report is an artifact
        # Compiled once, run on a schedule: each run fingerprints the data itself.
        fingerprint_in_run=True,
        # Every run has its own output folders: a run recovering a lost Trainer
        # (`python -m kubeflow resume`) finds the backup in one place all runs share.
        trainer_resume_root=shared_resume_root(config),
    )
    trainer = next(c for c in pipeline.components if c.id == TRAINER_ID)
    trainer.with_platform_config(trainer_resources(config.kubeflow))
    return pipeline


def shared_resume_root(config: PipelineConfig) -> str:
    """Where Trainers of every run back up unfinished trainings: `<pipeline root>/Trainer/.resume`.

    The backup's key is the Trainer's inputs, configuration and code
    (trainer_module.resume), so only a Trainer whose upstream tasks were cache hits of
    the run it recovers, and whose recipe is the same, finds it.
    """
    return f"{config.pipeline_root.rstrip('/')}/Trainer/.resume"


def compile_pipeline(config: PipelineConfig, output_path: str) -> str:
    """Writes the KFP v2 YAML of the pipeline for `config` to `output_path`.

    Runs offline: nothing is uploaded (Transform and Trainer code is referenced by
    dotted path into the image, not by module file).

    Args:
        config: a validated configuration; its Kubeflow section is checked here.
        output_path: where the YAML goes (must end in .yaml or .yml).

    Returns:
        `output_path`.

    Raises:
        ConfigError: a bad output path, Kubeflow section or cluster location (local paths
            where every pod needs a bucket), every problem listed.
    """
    if not output_path.endswith((".yaml", ".yml")):
        raise ConfigError(f"--output {output_path!r}: the package must be a .yaml file")
    check_kubeflow_config(config)
    check_cluster_locations(config)
    return write_pipeline_yaml(config, output_path)


def write_pipeline_yaml(config: PipelineConfig, output_path: str) -> str:
    """`compile_pipeline` without the check that every location is reachable from every pod.

    The offline replay (tests/kubeflow/kfp_replay.py) compiles with local directories
    standing in for the bucket and the serving volume; a cluster run never should.
    """
    pipeline = build_kubeflow_pipeline(config)
    runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
        config=kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
            default_image=config.kubeflow.image,
            default_commands=list(CONTAINER_COMMAND),
            # Schema 2.1 passes exec properties as `parameterValues`, the only field the
            # open-source KFP v2 driver fills, and gives each executor its inputs spec.
            use_pipeline_spec_2_1=True,
        )
    )
    pipeline_spec = runner.run(pipeline, write_out=False)["pipelineSpec"]
    pipeline_spec["defaultPipelineRoot"] = config.pipeline_root
    name_parameter_producers(pipeline_spec)
    beam_tasks = [
        c.id for c in pipeline.components if isinstance(c.executor_spec, BeamExecutorSpec)
    ]
    apply_task_policies(pipeline_spec, config.kubeflow, beam_tasks)
    documents = [pipeline_spec]
    executor_configs = {
        pipeline_spec["components"][node_id]["executorLabel"]: platform_config
        for node_id, platform_config in (
            (TRAINER_ID, trainer_placement(config.kubeflow)),
            (PUSHER_ID, serving_volume(config)),
            (BASELINE_LOOKUP_ID, own_namespace()),
        )
        if platform_config
    }
    if executor_configs:
        documents.append(
            {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executor_configs}}}}
        )
    buffer = io.StringIO()
    buffer.write(f"# PIPELINE DEFINITION\n# Name: {config.runner.pipeline_name}\n")
    buffer.write(f"# Compiled by `python -m kubeflow compile` (profile {config.profile}).\n")
    yaml.safe_dump_all(documents, buffer, sort_keys=True)
    os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
    with open(output_path, "w") as f:
        f.write(buffer.getvalue())
    return output_path


def name_parameter_producers(pipeline_spec: dict) -> None:
    """Names each parameter's producer by its task, as KFP's driver looks it up.

    TFX 1.16 writes `<component id>_task` as the producer of a parameter passed from
    one task to another, but names the task `<component id>`; KFP's driver then fails
    with "producer task, X_task, not in tasks" (driver/resolve.go,
    resolveUpstreamParameters).
    """
    tasks = pipeline_spec["root"]["dag"]["tasks"]
    for task in tasks.values():
        for parameter in task.get("inputs", {}).get("parameters", {}).values():
            producer = parameter.get("taskOutputParameter", {})
            name = producer.get("producerTask", "")
            if name not in tasks and name.removesuffix(_TFX_PRODUCER_SUFFIX) in tasks:
                producer["producerTask"] = name.removesuffix(_TFX_PRODUCER_SUFFIX)


def apply_task_policies(
    pipeline_spec: dict, kubeflow: KubeflowConfig, beam_tasks: list[str]
) -> None:
    """Per-task settings the TFX compiler has no words for, written into `pipeline_spec`.

    `beam_tasks`: the tasks whose executor runs a Beam pipeline (TFX hands the Beam
    flags to every task, so the arguments cannot tell).
    """
    tasks = pipeline_spec["root"]["dag"]["tasks"]
    for task in UNCACHED_TASKS:
        tasks[task]["cachingOptions"] = {"enableCache": False}
    if kubeflow.trainer_retries:
        tasks[TRAINER_ID]["retryPolicy"] = trainer_retry_policy(kubeflow)
    executors = pipeline_spec["deploymentSpec"]["executors"]
    for task in beam_tasks:
        container = executors[pipeline_spec["components"][task]["executorLabel"]]["container"]
        container["resources"] = beam_resources(kubeflow)
    if kubeflow.trainer_gpus > 0:
        trainer = executors[pipeline_spec["components"][TRAINER_ID]["executorLabel"]]
        trainer["container"]["env"] = [
            {"name": REQUIRED_GPUS_ENV, "value": str(kubeflow.trainer_gpus)}
        ]


def beam_resources(kubeflow: KubeflowConfig) -> dict:
    """A Beam-powered task's requests (in both encodings, as `trainer_resources`), no limits:
    the DirectRunner may use what the node has to spare."""
    return json_format.MessageToDict(
        ResourceSpec(
            cpu_request=_cores(kubeflow.beam_cpu),
            memory_request=_gigabytes(kubeflow.beam_memory),
            resource_cpu_request=kubeflow.beam_cpu,
            resource_memory_request=kubeflow.beam_memory,
        )
    )


def _cores(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def _gigabytes(quantity: str) -> float:
    for unit in sorted(_MEMORY_UNITS_IN_G, key=len, reverse=True):
        if quantity.endswith(unit):
            return float(quantity[: -len(unit)]) * _MEMORY_UNITS_IN_G[unit]
    return float(quantity) / 1e9
