"""An offline replay of a compiled KFP v2 pipeline, done the way one KFP release's backend runs it.

No Kubeflow cluster is reachable here. This harness plays the parts of KFP's
root-DAG driver, container driver and launcher, and of Argo's retry decision, for
the YAML that `python -m kubeflow compile` writes, and leaves behind what they would
leave. Where releases differ it follows a behaviour profile
(`tests/kubeflow/kfp_releases.py`, default: the newest), so one replay is always
one named release range:

- it walks the DAG in dependency order and builds each task's ExecutorInput like
  the driver (parameters from the task's constants or from an upstream task's output
  parameters, upstream artifacts read back from ML Metadata with an empty
  `instanceSchema`, output URIs under the run's pipeline root, the `executor-logs`
  output and the executor output file where the release puts them);
- it runs the task's exact container command and arguments as a subprocess (the
  image's `python` is this interpreter), with the environment the task's
  PlatformSpec asks for (`fieldPathAsEnv`);
- it merges the executor's output file into ML Metadata like the launcher
  (numbers become `double_value`, types are named after the schema title
  `tfx.Model`, contexts `system.Pipeline`/`system.PipelineRun` with the run's
  namespace, event keys are the task's input/output names), uploads and records
  the task's log as `executor-logs`, and fills in the pod's name, uid and namespace;
- it computes KFP's cache fingerprint per task and reuses a cached execution's
  outputs like the driver does, in the cache table of the run's namespace;
- when a task's pod is lost (`PodLoss`: its processes SIGKILLed, Argo's phase
  Error) or its container fails (phase Failed), it decides like Argo whether to
  start another attempt, from the task's compiled retryPolicy and the release's
  Argo retryPolicy; a retried attempt runs the same ExecutorInput again (Argo
  retries the executor pod, not the driver).

ML Metadata is a real sqlite store behind the gRPC stand-in of
tests/pipeline/mlmd_grpc_server.py: the harness talks to it with MLMD's gRPC
stubs, as the Go driver and launcher do, and the task containers reach the same
service by host and port, as pods reach `metadata-grpc-service`.

What is NOT replayed (only a cluster shows it): pods and Argo themselves (the retry
backoff is not waited for), the object-store download/upload the launcher does around
each executor (a local directory stands in for the bucket, and TFX reads and writes
its URIs directly through tf.io.gfile), resource requests, node placement, the API
server. A pod's own /tmp is a directory of its own under the replay's workdir.

Each ported rule names the Go function of github.com/kubeflow/pipelines it follows,
read at the release tags of the profile (kfp_releases.py names them); no code was copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import grpc
import yaml
from google.protobuf import json_format, struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2 as spec_pb2
from ml_metadata.proto import metadata_store_pb2 as mlmd
from ml_metadata.proto import metadata_store_service_pb2 as mlmd_service
from ml_metadata.proto import metadata_store_service_pb2_grpc as mlmd_grpc

from tests.kubeflow.kfp_releases import (
    EXECUTOR_LOGS,
    NEWEST,
    POD_OUTPUT_FILE,
    ROOT_BY_EXISTING_CHILDREN,
    ROOT_NOT_UPDATED,
    KfpRelease,
    argo_retries,
)

# backend/src/v2/metadata/client.go: the type names the backend records.
PIPELINE_CONTEXT_TYPE = "system.Pipeline"
PIPELINE_RUN_CONTEXT_TYPE = "system.PipelineRun"
DAG_EXECUTION_TYPE = "system.DAGExecution"
CONTAINER_EXECUTION_TYPE = "system.ContainerExecution"
# What single-user Kubeflow Pipelines runs in; multi-user runs are in profile namespaces.
NAMESPACE = "kubeflow"
_STATE_NAMES = {
    mlmd.Execution.RUNNING: "RUNNING",
    mlmd.Execution.COMPLETE: "COMPLETE",
    mlmd.Execution.FAILED: "FAILED",
    mlmd.Execution.CACHED: "CACHED",
}


class ReplayError(RuntimeError):
    """A task of the replayed run failed; the message holds the tail of its log."""


@dataclass
class PodLoss:
    """A task's pod is lost once `when()` holds: every process of the pod is SIGKILLed (the
    launcher too, so nothing more is recorded in ML Metadata).

    `phase` is what Argo makes of it (workflow/controller/operator.go): "Error" when the
    pod is gone (deleted with its node), "Failed" when the pod is still there, failed
    with a message (evicted, a node's graceful shutdown, a spot preemption notice).
    """

    task: str
    when: Callable[[], bool]
    phase: str = "Error"


@dataclass
class TaskRun:
    """One task of a replayed run, as ML Metadata and the cache saw it."""

    name: str
    execution_id: int
    # COMPLETE or CACHED; FAILED (the container failed), LOST (its pod was lost)
    state: str
    fingerprint: str  # "" when the task's caching is off
    executor_input: spec_pb2.ExecutorInput
    outputs: dict[str, mlmd.Artifact] = field(default_factory=dict)
    log: Path | None = None
    attempts: int = 0  # attempts Argo started (0 for a cache hit)
    seconds: float = 0.0  # wall time of its attempts
    exit_codes: list[int] = field(default_factory=list)  # of each attempt's container


@dataclass
class RunResult:
    run_id: str
    tasks: dict[str, TaskRun]
    root_dag_state: str = "RUNNING"
    failed_task: str = ""  # the task whose failure ended the run, if any

    def executed(self) -> set[str]:
        return {name for name, task in self.tasks.items() if task.state == "COMPLETE"}

    def cached(self) -> set[str]:
        return {name for name, task in self.tasks.items() if task.state == "CACHED"}

    def task_seconds(self) -> float:
        """What the run cost: the wall time of every task attempt it started."""
        return sum(task.seconds for task in self.tasks.values())


@dataclass
class CompiledPackage:
    """The two documents of a compiled package: PipelineSpec, kfp-kubernetes' PlatformSpec."""

    pipeline_spec: spec_pb2.PipelineSpec
    kubernetes_executors: dict

    @classmethod
    def load(cls, path: str | os.PathLike) -> CompiledPackage:
        documents = list(yaml.safe_load_all(Path(path).read_text()))
        spec = json_format.ParseDict(documents[0], spec_pb2.PipelineSpec())
        platform = documents[1] if len(documents) > 1 else {}
        executors = (
            platform.get("platforms", {})
            .get("kubernetes", {})
            .get("deploymentSpec", {})
            .get("executors", {})
        )
        return cls(spec, executors)

    @property
    def pipeline_name(self) -> str:
        return self.pipeline_spec.pipeline_info.name

    def executor(self, task: str) -> spec_pb2.PipelineDeploymentConfig.ExecutorSpec:
        deployment = json_format.ParseDict(
            json_format.MessageToDict(self.pipeline_spec.deployment_spec),
            spec_pb2.PipelineDeploymentConfig(),
        )
        return deployment.executors[self.component(task).executor_label]

    def component(self, task: str) -> spec_pb2.ComponentSpec:
        ref = self.pipeline_spec.root.dag.tasks[task].component_ref.name
        return self.pipeline_spec.components[ref]

    def kubernetes_config(self, task: str) -> dict:
        """The task's KubernetesExecutorConfig (kfp-kubernetes' PlatformSpec), {} if none."""
        return self.kubernetes_executors.get(self.component(task).executor_label, {})

    def retry_policy(self, task: str) -> dict | None:
        task_spec = self.pipeline_spec.root.dag.tasks[task]
        if not task_spec.HasField("retry_policy"):
            return None
        return json_format.MessageToDict(task_spec.retry_policy)

    def task_order(self) -> list[str]:
        """Tasks in dependency order (Argo starts a task when its dependencies are done)."""
        tasks = self.pipeline_spec.root.dag.tasks
        done: list[str] = []
        while len(done) < len(tasks):
            ready = sorted(
                name
                for name, task in tasks.items()
                if name not in done and set(task.dependent_tasks) <= set(done)
            )
            if not ready:
                raise ValueError(f"the DAG has a cycle among {sorted(set(tasks) - set(done))}")
            done.append(ready[0])
        return done


# Tasks of one run that may run at once: Argo runs every ready task; these machines have
# two cores.
PARALLEL_TASKS = 2


class CacheTable:
    """Stands in for the KFP API server's task table that the cache client queries.

    backend/src/v2/cacheutils/cache.go (GetExecutionCache, CreateExecutionCache), the
    same in every release: rows of fingerprint, "pipeline/<name>", namespace and MLMD
    execution id; a lookup returns the newest row's execution id. Nothing checks that
    the execution's artifacts still exist or are LIVE.
    """

    # One lock for every table of the process: the tasks of one run finish concurrently,
    # and runs replayed at once (one KfpReplay each) share one table, as one API server would.
    _writing = threading.Lock()

    def __init__(self, path: Path):
        self.path = path

    def lookup(self, fingerprint: str, pipeline_name: str, namespace: str) -> str:
        rows = [
            row
            for row in self._rows()
            if row["fingerprint"] == fingerprint
            and row["pipelineName"] == f"pipeline/{pipeline_name}"
            and row["namespace"] == namespace
        ]
        return rows[-1]["mlmdExecutionID"] if rows else ""

    def add(
        self, fingerprint: str, pipeline_name: str, namespace: str, run_id: str, execution_id: int
    ) -> None:
        row = {
            "fingerprint": fingerprint,
            "pipelineName": f"pipeline/{pipeline_name}",
            "namespace": namespace,
            "runId": run_id,
            "mlmdExecutionID": str(execution_id),
        }
        with self._writing:
            self._write([*self._rows(), row])

    def forget_runs(self, run_ids: set[str]) -> None:
        """What deleting runs does to the cache: a run's tasks, which are its cache entries,
        go with it (tasks reference run_details ON DELETE CASCADE: apiserver/client_manager
        up to 2.14.x, apiserver/model/task.go from 2.15.0; storage/run_store.go, DeleteRun)."""
        with self._writing:
            self._write([row for row in self._rows() if row["runId"] not in run_ids])

    def _rows(self) -> list[dict]:
        return json.loads(self.path.read_text()) if self.path.exists() else []

    def _write(self, rows: list[dict]) -> None:
        """Whole or not at all: a lookup (which takes no lock) never reads a half-written table."""
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(rows, indent=1))
        partial.replace(self.path)


@dataclass
class _Attempt:
    """How one attempt of a task's pod ended."""

    phase: str  # Argo's: "Succeeded", "Failed" or "Error"
    executor_output: spec_pb2.ExecutorOutput | None = None
    launcher_alive: bool = True  # False: the pod was lost, the launcher recorded nothing
    exit_code: int = 0


class KfpReplay:
    """Replays runs of one compiled package, as one KFP release in one namespace runs them."""

    def __init__(
        self,
        package: str | os.PathLike,
        mlmd_port: int,
        workdir: Path,
        env: dict[str, str] | None = None,
        image: str = "",
        mounts: tuple[str, ...] = (),
        release: KfpRelease = NEWEST,
        namespace: str = NAMESPACE,
    ):
        """Args:
        package: the compiled YAML.
        mlmd_port: the MLMD gRPC service on localhost (tests/pipeline/mlmd_grpc_server.py).
        workdir: task logs, the pods' /tmp and the cache table (one per KFP API server:
            share it between replays that stand for runs on one cluster).
        env: extra environment of the tasks.
        image: run each task in this Docker image (as KFP would) instead of this
            interpreter; `mounts` are the host directories it sees at the same paths.
        release: the KFP release whose behaviour is replayed.
        namespace: the Kubernetes namespace the runs are in (a Kubeflow profile's).
        """
        self.package = CompiledPackage.load(package)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cache = CacheTable(self.workdir / "cache_table.json")
        self.env = env or {}
        self.image = image
        self.mounts = mounts
        self.release = release
        self.namespace = namespace
        channel = grpc.insecure_channel(f"localhost:{mlmd_port}")
        self.mlmd = mlmd_grpc.MetadataStoreServiceStub(channel)

    # ---- one run: the root DAG driver, then driver + launcher per task ----

    def run(
        self,
        run_id: str,
        cache_disabled: bool = False,
        only: tuple[str, ...] = (),
        lose: PodLoss | None = None,
    ) -> RunResult:
        """Runs the tasks of the package as run `run_id`.

        `cache_disabled` is the server-wide switch the driver reads as
        opts.CacheDisabled. `only` runs just these tasks (none of them may depend
        on a task left out). `lose` loses the pod of one task while it runs.

        Raises ReplayError when a task fails and Argo does not retry it, unless it is
        the task whose pod `lose` loses: then the run ends there, as Argo ends it
        (tasks running finish, no new one starts), and the result says which task.
        """
        spec = self.package.pipeline_spec
        # backend/src/v2/driver/root_dag.go (RootDAG) and metadata/client.go (GetPipeline).
        pipeline_ctx, run_ctx = self._pipeline_contexts(run_id, spec.default_pipeline_root)
        root_dag_id = self._create_execution(
            DAG_EXECUTION_TYPE,
            name=f"run/{run_id}",
            custom={"display_name": _string(""), "task_name": _string("")},
            contexts=[pipeline_ctx, run_ctx],
        )
        run_root = run_ctx.custom_properties["pipeline_root"].string_value
        wanted = [name for name in self.package.task_order() if not only or name in only]
        dag = spec.root.dag.tasks
        tasks: dict[str, TaskRun] = {}
        failed = ""
        # Argo starts every task whose dependencies are done (the backend compiles the DAG
        # to an Argo DAG template with `depends`: backend/src/v2/compiler/argocompiler/dag.go),
        # so independent tasks run at the same time, here up to PARALLEL_TASKS of them.
        with ThreadPoolExecutor(max_workers=PARALLEL_TASKS) as pool:
            running: dict[Future, str] = {}
            while len(tasks) < len(wanted):
                for name in wanted if not failed else []:
                    ready = set(dag[name].dependent_tasks) <= set(tasks)
                    if ready and name not in tasks and name not in running.values():
                        args = (run_id, run_root, root_dag_id, [pipeline_ctx, run_ctx])
                        future = pool.submit(
                            self._run_task, name, *args, dict(tasks), cache_disabled, lose
                        )
                        running[future] = name
                if not running:
                    if failed:
                        break  # Argo starts nothing after a failed task
                    raise ValueError(f"tasks wait for tasks left out: {set(wanted) - set(tasks)}")
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    task = future.result()  # a task failing unexpectedly raises here
                    tasks[running.pop(future)] = task
                    if task.state in ("FAILED", "LOST"):
                        failed = failed or task.name
        (root,) = self.mlmd.GetExecutionsByID(
            mlmd_service.GetExecutionsByIDRequest(execution_ids=[root_dag_id])
        ).executions
        return RunResult(run_id, tasks, _STATE_NAMES[root.last_known_state], failed)

    def _run_task(
        self,
        name: str,
        run_id: str,
        run_root: str,
        root_dag_id: int,
        contexts: list[mlmd.Context],
        done: dict[str, TaskRun],
        cache_disabled: bool,
        lose: PodLoss | None,
    ) -> TaskRun:
        task_spec = self.package.pipeline_spec.root.dag.tasks[name]
        component = self.package.component(name)
        container = self.package.executor(name).container
        executor_input = spec_pb2.ExecutorInput()
        executor_input.inputs.CopyFrom(self._resolve_inputs(task_spec, done))
        pod_tmp = self.workdir / "pods" / run_id / name / "tmp"
        executor_input.outputs.CopyFrom(
            provision_outputs(self.release, run_root, name, component, pod_tmp)
        )

        fingerprint, cached_id = "", ""
        # driver/cache.go (getFingerPrintsAndID): only when caching is on for the run and task.
        if not cache_disabled and task_spec.caching_options.enable_cache:
            fingerprint = self.task_fingerprint(name, executor_input)
            cached_id = self.cache.lookup(fingerprint, self.package.pipeline_name, self.namespace)

        # driver/container.go (Container) -> metadata/client.go (CreateExecution): the pod's
        # name, uid and namespace are left empty for the launcher, the image is never filled.
        custom = {
            "display_name": _string(name),
            "task_name": _string(name),
            "parent_dag_id": _int(root_dag_id),
            "pod_name": _string(""),
            "pod_uid": _string(""),
            "namespace": _string(""),
            "image": _string(""),
            "inputs": _struct(executor_input.inputs.parameter_values),
        }
        if cached_id:
            custom["cached_execution_id"] = _string(cached_id)
        if fingerprint:
            custom["cache_fingerprint"] = _string(fingerprint)
        input_ids = {
            key: [int(a.name) for a in artifacts.artifacts]
            for key, artifacts in executor_input.inputs.artifacts.items()
        }
        execution_id = self._create_execution(
            CONTAINER_EXECUTION_TYPE, custom=custom, contexts=contexts, inputs=input_ids
        )

        if cached_id:
            # driver/cache.go (reuseCachedOutputs): the cached execution's output artifacts
            # under the current output names (a name the cached execution lacks fails the
            # task), and all its output parameters, published again under this execution
            # with state CACHED; nothing runs.
            outputs = self._output_artifacts(int(cached_id))
            missing = sorted(set(executor_input.outputs.artifacts) - set(outputs))
            if missing:
                raise ReplayError(
                    f"{name}: failed collect output artifact metadata from cache: unable to "
                    f"find artifact with name {missing[0]} in mlmd output artifacts"
                )
            reused = {key: outputs[key] for key in executor_input.outputs.artifacts}
            parameters = self._output_parameters(int(cached_id))
            self._publish(execution_id, contexts, reused, parameters, mlmd.Execution.CACHED)
            return TaskRun(name, execution_id, "CACHED", fingerprint, executor_input, reused)

        log = self.workdir / run_id / f"{name}.log"
        started = time.monotonic()
        attempts = 0
        exit_codes: list[int] = []
        retry_policy = self.package.retry_policy(name)
        while True:
            pod_name = f"{run_id}-{name.lower()}-{attempts}"
            self._pre_publish(execution_id, pod_name)
            attempt = self._launch(
                name, pod_name, attempts, executor_input, container, component, log, pod_tmp, lose
            )
            attempts += 1
            exit_codes.append(attempt.exit_code)
            if attempt.phase == "Succeeded":
                break
            if attempt.launcher_alive:
                # component/launcher_v2.go (Execute): a failed executor's execution is
                # published FAILED (with its log from 2.16.0); the parent DAG is updated.
                self._publish_failure(execution_id, contexts, executor_input, log, attempts - 1)
                self._update_root_dag(root_dag_id)
            elapsed = time.monotonic() - started
            if not argo_retries(self.release, retry_policy, attempt.phase, attempts, elapsed):
                state = "FAILED" if attempt.launcher_alive else "LOST"
                if lose is None or lose.task != name:
                    tail = "".join(log.read_text().splitlines(keepends=True)[-40:])
                    raise ReplayError(f"{name}: {state}, not retried; {log}:\n{tail}")
                return TaskRun(
                    name, execution_id, state, fingerprint, executor_input, {}, log, attempts,
                    time.monotonic() - started, exit_codes,
                )  # fmt: skip
        outputs = self._record_outputs(executor_input, attempt.executor_output, log, attempts - 1)
        self._publish(
            execution_id,
            contexts,
            outputs,
            dict(attempt.executor_output.parameter_values),
            mlmd.Execution.COMPLETE,
        )
        # component/launcher_v2.go (Execute): a task that ran with a fingerprint is cached.
        if fingerprint:
            self.cache.add(
                fingerprint, self.package.pipeline_name, self.namespace, run_id, execution_id
            )
        self._update_root_dag(root_dag_id)
        return TaskRun(
            name, execution_id, "COMPLETE", fingerprint, executor_input, outputs, log, attempts,
            time.monotonic() - started, exit_codes,
        )  # fmt: skip

    # ---- the driver ----

    def _resolve_inputs(
        self, task_spec: spec_pb2.PipelineTaskSpec, done: dict[str, TaskRun]
    ) -> spec_pb2.ExecutorInput.Inputs:
        """driver/resolve.go (resolveInputs, resolveUpstreamParameters, resolveUpstreamArtifacts).

        An upstream parameter is the producer execution's `outputs` struct entry (for a
        cache hit, what reuseCachedOutputs published again).
        """
        inputs = spec_pb2.ExecutorInput.Inputs()
        for key, parameter in task_spec.inputs.parameters.items():
            kind = parameter.WhichOneof("kind")
            if kind == "runtime_value":
                inputs.parameter_values[key].CopyFrom(parameter.runtime_value.constant)
            elif kind == "task_output_parameter":
                producer = parameter.task_output_parameter
                if producer.producer_task not in done:
                    raise ReplayError(f"producer task, {producer.producer_task}, not in tasks")
                outputs = self._output_parameters(done[producer.producer_task].execution_id)
                inputs.parameter_values[key].CopyFrom(outputs[producer.output_parameter_key])
            else:
                raise NotImplementedError(f"input parameter {key}: {kind} (not used by TFX)")
        for key, artifact in task_spec.inputs.artifacts.items():
            producer = artifact.task_output_artifact
            upstream = self._output_artifacts(done[producer.producer_task].execution_id)
            inputs.artifacts[key].artifacts.append(
                to_runtime_artifact(upstream[producer.output_artifact_key])
            )
        return inputs

    def task_fingerprint(self, task: str, executor_input: spec_pb2.ExecutorInput) -> str:
        """driver/cache.go (getFingerPrint): the cache key of `task`, PVC names from 2.15.0."""
        pvc_names = self._pvc_names(task) if self.release.pvc_names_in_cache_key else []
        return fingerprint_of(
            cache_key(
                executor_input,
                self.package.component(task),
                self.package.executor(task).container,
                pvc_names,
            )
        )

    def _pvc_names(self, task: str) -> list[str]:
        """driver/k8s.go (makeVolumeMountPatch): a constant PVC mount's volume is named after it."""
        mounts = self.package.kubernetes_config(task).get("pvcMount", [])
        return sorted({m["constant"] for m in mounts if m.get("constant")})

    def _pod_env(self, task: str, pod_name: str) -> dict[str, str]:
        """driver/k8s.go (makePodSpecPatch): `fieldPathAsEnv` from the pod's own metadata."""
        fields = {"metadata.namespace": self.namespace, "metadata.name": pod_name}
        return {
            entry["name"]: fields[entry["fieldPath"]]
            for entry in self.package.kubernetes_config(task).get("fieldPathAsEnv", [])
        }

    # ---- the launcher, and Argo's pod ----

    def _launch(
        self,
        name: str,
        pod_name: str,
        retry_index: int,
        executor_input: spec_pb2.ExecutorInput,
        container: spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec,
        component: spec_pb2.ComponentSpec,
        log: Path,
        pod_tmp: Path,
        lose: PodLoss | None,
    ) -> _Attempt:
        """component/launcher_v2.go (executeV2, execute, getExecutorOutputFile), one pod."""
        if self.release.executor_logs_per_retry:
            qualify_executor_logs(executor_input, retry_index)
        with_defaults = add_default_params(executor_input, component)
        command = compile_command(with_defaults, [*container.command, *container.args])
        log.parent.mkdir(parents=True, exist_ok=True)
        task_env = {**self.env, **self._pod_env(name, pod_name)}
        env = {
            **os.environ,
            # The image's `python` is this interpreter, with the project installed.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "TF_USE_LEGACY_KERAS": "1",  # the image's ENV
            **task_env,
        }
        output_file = executor_input.outputs.output_file
        pod_output_dir = pod_tmp / Path(POD_OUTPUT_FILE).parent.name
        if output_file == POD_OUTPUT_FILE:
            # The pod's own /tmp: a directory of this pod here (mounted there in a container).
            shutil.rmtree(pod_output_dir, ignore_errors=True)
            pod_output_dir.mkdir(parents=True)
            if not self.image:
                command = [
                    arg.replace(POD_OUTPUT_FILE, str(pod_output_dir / Path(output_file).name))
                    for arg in command
                ]
                output_file = str(pod_output_dir / Path(output_file).name)
        if self.image:
            mounts = (*self.mounts, f"{pod_output_dir}:{Path(POD_OUTPUT_FILE).parent}")
            command = _in_container(self.image, command, mounts, task_env)
            if executor_input.outputs.output_file == POD_OUTPUT_FILE:
                output_file = str(pod_output_dir / Path(POD_OUTPUT_FILE).name)
        with open(log, "a") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.workdir,
                start_new_session=True,  # the pod: its processes go together
            )
            lost = False
            while process.poll() is None:
                if lose is not None and lose.task == name and not lost and lose.when():
                    os.killpg(process.pid, signal.SIGKILL)
                    lost = True
                time.sleep(0.2)
        if lost:
            return _Attempt(lose.phase, launcher_alive=False, exit_code=process.returncode)
        if process.returncode != 0:
            return _Attempt("Failed", exit_code=process.returncode)
        executor_output = spec_pb2.ExecutorOutput()
        if os.path.exists(output_file):
            # protojson.Unmarshal is strict: unknown fields are errors, as here.
            json_format.Parse(Path(output_file).read_text(), executor_output)
        return _Attempt("Succeeded", executor_output)

    def _pre_publish(self, execution_id: int, pod_name: str) -> None:
        """metadata/client.go (PrePublishExecution): before the executor, the launcher records
        its pod's name, uid and namespace, and RUNNING."""
        (execution,) = self.mlmd.GetExecutionsByID(
            mlmd_service.GetExecutionsByIDRequest(execution_ids=[execution_id])
        ).executions
        execution.custom_properties["pod_name"].string_value = pod_name
        execution.custom_properties["pod_uid"].string_value = str(
            uuid.uuid5(uuid.NAMESPACE_OID, pod_name)
        )
        execution.custom_properties["namespace"].string_value = self.namespace
        execution.last_known_state = mlmd.Execution.RUNNING
        self.mlmd.PutExecutions(mlmd_service.PutExecutionsRequest(executions=[execution]))

    def _record_outputs(
        self,
        executor_input: spec_pb2.ExecutorInput,
        executor_output: spec_pb2.ExecutorOutput,
        log: Path,
        retry_index: int,
        only: tuple[str, ...] = (),
    ) -> dict[str, mlmd.Artifact]:
        """component/launcher_v2.go (uploadOutputArtifacts), metadata/client.go (RecordArtifact).

        Every output of the ExecutorInput is recorded, whether or not the executor's
        output file names it; the `executor-logs` output is the task's log, uploaded.
        """
        recorded = {}
        for key, artifacts in executor_input.outputs.artifacts.items():
            if only and key not in only:
                continue
            artifact = artifacts.artifacts[0]
            written = executor_output.artifacts.get(key)
            merged = not (key == EXECUTOR_LOGS and self.release.executor_logs_per_retry)
            if merged and written is not None and written.artifacts:
                merge_runtime_artifacts(written.artifacts[0], artifact)
            if key == EXECUTOR_LOGS:
                upload_log(log, artifact.uri)
            record = to_mlmd_artifact(artifact)
            type_name = schema_title(artifact_schema(artifact.type))
            record.type_id = self.mlmd.PutArtifactType(
                mlmd_service.PutArtifactTypeRequest(artifact_type=mlmd.ArtifactType(name=type_name))
            ).type_id
            record.state = mlmd.Artifact.LIVE
            if "display_name" not in record.custom_properties:
                record.custom_properties["display_name"].string_value = key
            if "store_session_info" not in record.custom_properties:
                # json.Marshal of the bucket's session info; none for the local stand-in.
                record.custom_properties["store_session_info"].string_value = "null"
            (artifact_id,) = self.mlmd.PutArtifacts(
                mlmd_service.PutArtifactsRequest(artifacts=[record])
            ).artifact_ids
            recorded[key] = self._artifacts([artifact_id])[0]
        return recorded

    def _publish_failure(
        self,
        execution_id: int,
        contexts: list[mlmd.Context],
        executor_input: spec_pb2.ExecutorInput,
        log: Path,
        retry_index: int,
    ) -> None:
        """launcher_v2.go (Execute, executeV2): FAILED; from 2.16.0 with the log recorded."""
        outputs = {}
        if self.release.executor_logs_of_failures and EXECUTOR_LOGS in (
            executor_input.outputs.artifacts
        ):
            outputs = self._record_outputs(
                executor_input, spec_pb2.ExecutorOutput(), log, retry_index, only=(EXECUTOR_LOGS,)
            )
        self._publish(execution_id, contexts, outputs, {}, mlmd.Execution.FAILED)

    def _publish(
        self,
        execution_id: int,
        contexts: list[mlmd.Context],
        outputs: dict[str, mlmd.Artifact],
        output_parameters: dict[str, struct_pb2.Value],
        state: int,
    ) -> None:
        """metadata/client.go (PublishExecution): state, output parameters, OUTPUT events."""
        (execution,) = self.mlmd.GetExecutionsByID(
            mlmd_service.GetExecutionsByIDRequest(execution_ids=[execution_id])
        ).executions
        execution.last_known_state = state
        execution.custom_properties["outputs"].struct_value.SetInParent()
        execution.custom_properties["outputs"].struct_value.update(
            {k: json_format.MessageToDict(v) for k, v in output_parameters.items()}
        )
        request = mlmd_service.PutExecutionRequest(execution=execution, contexts=contexts)
        for key, artifact in outputs.items():
            pair = request.artifact_event_pairs.add()
            pair.event.CopyFrom(_event(mlmd.Event.OUTPUT, key, artifact.id))
        self.mlmd.PutExecution(request)

    def _update_root_dag(self, root_dag_id: int) -> None:
        """metadata/client.go (UpdateDAGExecutionsState), called by the launcher on its task's
        parent DAG (here always the root) once its executor is done.

        The release's rule (kfp_releases.ROOT_*) decides.
        """
        if self.release.root_dag_rule == ROOT_NOT_UPDATED:
            return
        children = [
            e
            for e in self._executions_of_root(root_dag_id)
            if e.custom_properties["parent_dag_id"].int_value == root_dag_id
        ]
        done_states = (mlmd.Execution.COMPLETE, mlmd.Execution.CACHED, mlmd.Execution.CANCELED)
        completed = sum(e.last_known_state in done_states for e in children)
        failures = sum(e.last_known_state == mlmd.Execution.FAILED for e in children)
        total = len(children) if self.release.root_dag_rule == ROOT_BY_EXISTING_CHILDREN else 0
        if completed == total:
            self._set_state(root_dag_id, mlmd.Execution.COMPLETE)
        elif failures:
            self._set_state(root_dag_id, mlmd.Execution.FAILED)

    def _executions_of_root(self, root_dag_id: int) -> list[mlmd.Execution]:
        contexts = self.mlmd.GetContextsByExecution(
            mlmd_service.GetContextsByExecutionRequest(execution_id=root_dag_id)
        ).contexts
        (run_context,) = [c for c in contexts if c.name != self.package.pipeline_name]
        return list(
            self.mlmd.GetExecutionsByContext(
                mlmd_service.GetExecutionsByContextRequest(context_id=run_context.id)
            ).executions
        )

    # ---- ML Metadata, through the gRPC service like the Go client ----

    def _pipeline_contexts(self, run_id: str, pipeline_root: str) -> tuple[mlmd.Context, ...]:
        """metadata/client.go (GetPipeline, getOrInsertContext): pipeline and run contexts.

        The pipeline context is named after the pipeline alone, in every release: the
        namespace is only a property of the run's context.
        """
        name = self.package.pipeline_name
        pipeline_ctx = self._context(PIPELINE_CONTEXT_TYPE, name, {})
        run_ctx = self._context(
            PIPELINE_RUN_CONTEXT_TYPE,
            run_id,
            {
                "namespace": _string(self.namespace),
                "resource_name": _string("run-resource"),
                "pipeline_root": _string(generate_output_uri(pipeline_root, [name, run_id])),
                "store_session_info": _string("null"),
            },
        )
        self.mlmd.PutParentContexts(
            mlmd_service.PutParentContextsRequest(
                parent_contexts=[mlmd.ParentContext(child_id=run_ctx.id, parent_id=pipeline_ctx.id)]
            )
        )
        return pipeline_ctx, run_ctx

    def _context(self, type_name: str, name: str, custom: dict) -> mlmd.Context:
        """metadata/client.go (getOrInsertContext): get, else put; a concurrent put wins."""
        request = mlmd_service.GetContextByTypeAndNameRequest(
            type_name=type_name, context_name=name
        )
        found = self.mlmd.GetContextByTypeAndName(request)
        if found.HasField("context"):
            return found.context
        type_id = self.mlmd.PutContextType(
            mlmd_service.PutContextTypeRequest(context_type=mlmd.ContextType(name=type_name))
        ).type_id
        context = mlmd.Context(name=name, type_id=type_id)
        for key, value in custom.items():
            context.custom_properties[key].CopyFrom(value)
        try:
            self.mlmd.PutContexts(mlmd_service.PutContextsRequest(contexts=[context]))
        except grpc.RpcError as error:
            # Another run's driver created it in between: KFP ignores AlreadyExists.
            if error.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
        return self.mlmd.GetContextByTypeAndName(request).context

    def _create_execution(
        self,
        type_name: str,
        custom: dict[str, mlmd.Value],
        contexts: list[mlmd.Context],
        name: str = "",
        inputs: dict[str, list[int]] | None = None,
    ) -> int:
        """metadata/client.go (CreateExecution): RUNNING, custom properties, INPUT events."""
        type_id = self.mlmd.PutExecutionType(
            mlmd_service.PutExecutionTypeRequest(execution_type=mlmd.ExecutionType(name=type_name))
        ).type_id
        execution = mlmd.Execution(type_id=type_id, last_known_state=mlmd.Execution.RUNNING)
        if name:
            execution.name = name
        for key, value in custom.items():
            execution.custom_properties[key].CopyFrom(value)
        request = mlmd_service.PutExecutionRequest(execution=execution, contexts=contexts)
        for key, ids in (inputs or {}).items():
            for artifact_id in ids:
                request.artifact_event_pairs.add().event.CopyFrom(
                    _event(mlmd.Event.INPUT, key, artifact_id)
                )
        return self.mlmd.PutExecution(request).execution_id

    def _set_state(self, execution_id: int, state: int) -> None:
        (execution,) = self.mlmd.GetExecutionsByID(
            mlmd_service.GetExecutionsByIDRequest(execution_ids=[execution_id])
        ).executions
        execution.last_known_state = state
        self.mlmd.PutExecutions(mlmd_service.PutExecutionsRequest(executions=[execution]))

    def _output_artifacts(self, execution_id: int) -> dict[str, mlmd.Artifact]:
        """metadata/client.go (GetOutputArtifactsByExecutionId): OUTPUT events, keyed by path."""
        events = self.mlmd.GetEventsByExecutionIDs(
            mlmd_service.GetEventsByExecutionIDsRequest(execution_ids=[execution_id])
        ).events
        names = {e.artifact_id: e.path.steps[0].key for e in events if e.type == mlmd.Event.OUTPUT}
        return {names[a.id]: a for a in self._artifacts(list(names))}

    def _output_parameters(self, execution_id: int) -> dict[str, struct_pb2.Value]:
        """metadata/client.go (Execution.GetParameters): the `outputs` struct of an execution."""
        (execution,) = self.mlmd.GetExecutionsByID(
            mlmd_service.GetExecutionsByIDRequest(execution_ids=[execution_id])
        ).executions
        outputs = execution.custom_properties.get("outputs")
        if outputs is None or not outputs.HasField("struct_value"):
            return {}
        return dict(outputs.struct_value.fields)

    def _artifacts(self, ids: list[int]) -> list[mlmd.Artifact]:
        return list(
            self.mlmd.GetArtifactsByID(
                mlmd_service.GetArtifactsByIDRequest(artifact_ids=ids)
            ).artifacts
        )


# ---- ported rules, one function each ----


def generate_output_uri(pipeline_root: str, paths: list[str]) -> str:
    """metadata/client.go (GenerateOutputURI): root + "/" + path.Join(paths) (no query here)."""
    return f"{pipeline_root.rstrip('/')}/{posixpath.normpath(posixpath.join(*paths))}"


def provision_outputs(
    release: KfpRelease,
    run_root: str,
    task: str,
    component: spec_pb2.ComponentSpec,
    pod_tmp: Path,
) -> spec_pb2.ExecutorInput.Outputs:
    """driver/driver.go (provisionOutputs): each output at <run root>/<task>/<uuid>/<name>.

    From 2.5.0 an `executor-logs` output of type `system.Artifact` is added; from
    2.15.0 each output is named after its key and the executor output file is
    `<local path of the task root>/output_metadata.json` (the local stand-in of the
    bucket is its own local path), before that the pod's POD_OUTPUT_FILE.
    """
    task_root = generate_output_uri(run_root, [task, str(uuid.uuid4())])
    outputs = spec_pb2.ExecutorInput.Outputs()
    specs = dict(component.output_definitions.artifacts)
    if release.executor_logs:
        logs = spec_pb2.ComponentOutputsSpec.ArtifactSpec()
        logs.artifact_type.schema_title = "system.Artifact"
        specs[EXECUTOR_LOGS] = logs
    for name, spec in specs.items():
        artifact = outputs.artifacts[name].artifacts.add()
        artifact.name = name if release.named_outputs else ""
        artifact.uri = generate_output_uri(task_root, [name])
        artifact.type.CopyFrom(spec.artifact_type)
        if spec.HasField("metadata"):
            artifact.metadata.CopyFrom(spec.metadata)
    for name in component.output_definitions.parameters:
        outputs.parameters[name].output_file = f"/tmp/kfp/outputs/{name}"
    if release.output_file_in_task_root:
        outputs.output_file = posixpath.join(task_root, "output_metadata.json")
    else:
        outputs.output_file = POD_OUTPUT_FILE
    os.makedirs(task_root, exist_ok=True)
    return outputs


def qualify_executor_logs(executor_input: spec_pb2.ExecutorInput, retry_index: int) -> None:
    """component/launcher_v2.go (qualifyExecutorLogsForRetry, 2.16.1+): the log of each
    attempt goes to `executor-logs-<retry index>`, before the placeholders are filled."""
    logs = executor_input.outputs.artifacts.get(EXECUTOR_LOGS)
    if logs is None or not logs.artifacts:
        return
    base = logs.artifacts[0].uri.rsplit("/", 1)[0]
    logs.artifacts[0].uri = f"{base}/{EXECUTOR_LOGS}-{retry_index}"


def upload_log(log: Path, uri: str) -> None:
    """launcher_v2.go (getLogWriter, uploadOutputArtifacts): the task's stdout and stderr,
    teed into the log file, uploaded to the `executor-logs` URI (a local stand-in here)."""
    os.makedirs(os.path.dirname(uri), exist_ok=True)
    shutil.copyfile(log, uri)


def to_runtime_artifact(artifact: mlmd.Artifact) -> spec_pb2.RuntimeArtifact:
    """metadata/converter.go (toRuntimeArtifact) + client.go (OutputArtifact.ToRuntimeArtifact).

    The name is the MLMD id, properties and custom properties become metadata
    (ints and doubles both as JSON numbers), and the type is the recorded schema,
    which GetOutputArtifactsByExecutionId leaves empty: `instanceSchema: ""`.
    """
    runtime = spec_pb2.RuntimeArtifact(name=str(artifact.id), uri=artifact.uri)
    for properties in (artifact.properties, artifact.custom_properties):
        for key, value in properties.items():
            kind = value.WhichOneof("value")
            if kind == "string_value":
                runtime.metadata.fields[key].string_value = value.string_value
            elif kind in ("int_value", "double_value"):
                runtime.metadata.fields[key].number_value = getattr(value, kind)
            elif kind == "struct_value":
                runtime.metadata.fields[key].struct_value.CopyFrom(value.struct_value)
            else:
                raise ValueError(f"unknown property type in MLMD artifact: {kind}")
    runtime.type.instance_schema = ""
    return runtime


def struct_value_to_mlmd_value(value: struct_pb2.Value) -> mlmd.Value:
    """metadata/converter.go (StructValueToMLMDValue): every JSON number is a double."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return mlmd.Value(string_value=value.string_value)
    if kind == "number_value":
        return mlmd.Value(double_value=value.number_value)
    if kind == "bool_value":
        return mlmd.Value(int_value=int(value.bool_value))
    if kind in ("list_value", "struct_value"):
        wrapped = struct_pb2.Struct()
        wrapped.fields["list" if kind == "list_value" else "struct"].CopyFrom(value)
        return mlmd.Value(struct_value=wrapped)
    raise ValueError(f"unknown/unsupported value type {kind}")


def to_mlmd_artifact(runtime: spec_pb2.RuntimeArtifact) -> mlmd.Artifact:
    """metadata/converter.go (toMLMDArtifact): metadata -> custom properties, bar _kfp_workspace."""
    artifact = mlmd.Artifact(uri=runtime.uri)
    for key, value in runtime.metadata.fields.items():
        if key != "_kfp_workspace":
            artifact.custom_properties[key].CopyFrom(struct_value_to_mlmd_value(value))
    return artifact


def merge_runtime_artifacts(src: spec_pb2.RuntimeArtifact, dst: spec_pb2.RuntimeArtifact) -> None:
    """component/launcher_v2.go (mergeRuntimeArtifacts): the executor's uri and metadata win
    (from 2.16.1 not for `executor-logs`: the caller skips it).

    (Its `customPath` is newer than the kfp-pipeline-spec of our lock, and TFX never sets it.)
    """
    if src.uri:
        dst.uri = src.uri
    for key, value in src.metadata.fields.items():
        dst.metadata.fields[key].CopyFrom(value)


def artifact_schema(artifact_type: spec_pb2.ArtifactTypeSchema) -> str:
    """component/launcher_v2.go (getArtifactSchema)."""
    kind = artifact_type.WhichOneof("kind")
    if kind == "instance_schema":
        return artifact_type.instance_schema
    if kind == "schema_title":
        return f"title: {artifact_type.schema_title}"
    raise ValueError(f"unsupported artifact type schema {kind}")


def schema_title(schema: str) -> str:
    """metadata/client.go (SchemaToArtifactType): the type is named after the schema's title."""
    title = (yaml.safe_load(schema) or {}).get("title", "")
    if not title:
        raise ValueError(f"no title in artifact schema {schema!r}")
    return title


def add_default_params(
    executor_input: spec_pb2.ExecutorInput, component: spec_pb2.ComponentSpec
) -> spec_pb2.ExecutorInput:
    """component/launcher_v2.go (addDefaultParams): defaults for parameters not given, on a copy."""
    result = spec_pb2.ExecutorInput()
    result.CopyFrom(executor_input)
    for name, spec in component.input_definitions.parameters.items():
        if name not in result.inputs.parameter_values and spec.HasField("default_value"):
            result.inputs.parameter_values[name].CopyFrom(spec.default_value)
    return result


def compile_command(executor_input: spec_pb2.ExecutorInput, command: list[str]) -> list[str]:
    """component/launcher_v2.go (compileCmdAndArgs, getPlaceholders).

    `{{$}}` is the whole ExecutorInput as JSON; the per-name placeholders are
    substituted too, though TFX's executors only use `{{$}}`.
    """
    placeholders = {"{{$}}": json_format.MessageToJson(executor_input, indent=None)}
    for name, artifacts in executor_input.inputs.artifacts.items():
        if artifacts.artifacts:
            placeholders[f"{{{{$.inputs.artifacts['{name}'].uri}}}}"] = artifacts.artifacts[0].uri
    for name, artifacts in executor_input.outputs.artifacts.items():
        if artifacts.artifacts:
            placeholders[f"{{{{$.outputs.artifacts['{name}'].uri}}}}"] = artifacts.artifacts[0].uri
    for name, value in executor_input.inputs.parameter_values.items():
        placeholders[f"{{{{$.inputs.parameters['{name}']}}}}"] = _placeholder_text(value)
    for name, parameter in executor_input.outputs.parameters.items():
        placeholders[f"{{{{$.outputs.parameters['{name}'].output_file}}}}"] = parameter.output_file
    compiled = []
    for arg in command:
        for placeholder, replacement in placeholders.items():
            arg = arg.replace(placeholder, replacement)
        compiled.append(arg)
    return compiled


def cache_key(
    executor_input: spec_pb2.ExecutorInput,
    component: spec_pb2.ComponentSpec,
    container: spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec,
    pvc_names: list[str],
) -> dict:
    """cacheutils/cache.go (GenerateCacheKey), as the protojson of api/v2alpha1 CacheKey.

    Inputs by artifact name (the MLMD id) and parameter value, outputs without
    their URI, the output parameter types, the image and the uncompiled command
    and arguments, the PVC names (driver/cache.go getFingerPrint sorts them).
    """
    key: dict = {}
    names = {
        name: {"artifactNames": [a.name for a in artifacts.artifacts]}
        for name, artifacts in executor_input.inputs.artifacts.items()
    }
    if names:
        key["inputArtifactNames"] = names
    if executor_input.inputs.parameter_values:
        key["inputParameterValues"] = {
            name: json_format.MessageToDict(value)
            for name, value in executor_input.inputs.parameter_values.items()
        }
    outputs = {}
    for name, artifacts in executor_input.outputs.artifacts.items():
        if artifacts.artifacts:
            wiped = spec_pb2.RuntimeArtifact()
            wiped.CopyFrom(artifacts.artifacts[0])
            wiped.ClearField("uri")
            outputs[name] = json_format.MessageToDict(wiped)
    if outputs:
        key["outputArtifactsSpec"] = outputs
    types = {
        name: spec_pb2.ParameterType.ParameterTypeEnum.Name(spec.parameter_type)
        for name, spec in component.output_definitions.parameters.items()
        if name in executor_input.outputs.parameters
    }
    if types:
        key["outputParametersSpec"] = types
    container_spec = {"image": container.image, "cmdArgs": [*container.command, *container.args]}
    if pvc_names:
        container_spec["pvcNames"] = sorted(set(pvc_names))
    key["containerSpec"] = container_spec
    return key


def fingerprint_of(key: dict) -> str:
    """cacheutils/cache.go (GenerateFingerPrint): sha256 of Go's encoding/json of the key."""
    return hashlib.sha256(go_json(key).encode()).hexdigest()


def go_json(value) -> str:
    """What Go's json.Marshal writes for decoded JSON: sorted keys, no spaces, HTML-safe strings,
    and float64 in strconv's shortest form ('f' within [1e-6, 1e21), else 'e' as 1e-7)."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{go_json(k)}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _go_float(number: float) -> str:
    if number == 0:
        return "0"
    if 1e-6 <= abs(number) < 1e21:
        text = format(Decimal(repr(number)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = repr(number).split("e")
    sign, digits = exponent[0], exponent[1:].lstrip("0")
    return f"{mantissa}e{sign}{digits.zfill(2) if sign == '+' else digits}"


def _placeholder_text(value: struct_pb2.Value) -> str:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        return _go_float(value.number_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    return go_json(json_format.MessageToDict(value))


def _in_container(
    image: str, command: list[str], mounts: tuple[str, ...], env: dict[str, str]
) -> list[str]:
    """`docker run` of the task's command in `image`, on the host network (MLMD on localhost).

    A mount is a host path seen at the same path, or `HOST:CONTAINER`."""
    volumes = [arg for path in mounts for arg in ("-v", path if ":" in path else f"{path}:{path}")]
    variables = [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]
    return [
        "docker", "run", "--rm", "--network", "host", *volumes, *variables,
        "--entrypoint", command[0], image, *command[1:],
    ]  # fmt: skip


def _event(event_type: int, key: str, artifact_id: int) -> mlmd.Event:
    """metadata/client.go (eventPath): one path step, the artifact's name for this execution."""
    event = mlmd.Event(type=event_type, artifact_id=artifact_id)
    event.path.steps.add().key = key
    return event


def _string(text: str) -> mlmd.Value:
    return mlmd.Value(string_value=text)


def _int(number: int) -> mlmd.Value:
    return mlmd.Value(int_value=number)


def _struct(values) -> mlmd.Value:
    value = mlmd.Value()
    value.struct_value.SetInParent()
    value.struct_value.update({k: json_format.MessageToDict(v) for k, v in values.items()})
    return value
