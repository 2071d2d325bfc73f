"""Which KFP backend the offline replay plays: one behaviour profile per range of release tags.

Each field is one thing that changed between KFP backend releases and that a TFX task
meets, with the Go source at the release tag that changed it (kubeflow/pipelines,
read at the tags themselves, never at `master`; backend tags go 2.4.1, 2.5.0, then
2.14.0: there are none in between). `tests/kubeflow/kfp_replay.py` reads only these
fields where releases differ; `tests/kubeflow/test_kfp_releases.py` pins every field
of every profile, so the model cannot drift from what is cited here without a test
failing. kubeflow/README.md lists the same changes for users.

What no profile models (only a cluster shows it): Argo itself (pods, the retry loop),
the launcher's object-store download and upload, the API server.
"""

from __future__ import annotations

from dataclasses import dataclass

# The executor output file before 2.15.0: a fixed path in the pod's own /tmp
# (backend/src/v2/component/launcher_v2.go, `OutputMetadataFilepath`).
POD_OUTPUT_FILE = "/tmp/kfp_outputs/output_metadata.json"
EXECUTOR_LOGS = "executor-logs"

# How the launcher updates the root DAG execution once its task is done (metadata/client.go,
# UpdateDAGExecutionsState, called on the task's parent DAG):
# 2.4.0: COMPLETE once every child execution that exists so far is done (it can come early).
ROOT_BY_EXISTING_CHILDREN = "existing children"
# 2.5.0 (#11651): compared with `total_dag_tasks`, which the root lacks (0): a success
# leaves it RUNNING for ever; a failure sets FAILED, or COMPLETE if no child was done yet.
ROOT_BY_TOTAL_DAG_TASKS = "total_dag_tasks"
# 2.17.0: DAGs without `total_dag_tasks` are skipped: the root stays RUNNING whatever happens.
ROOT_NOT_UPDATED = "not updated"


@dataclass(frozen=True)
class KfpRelease:
    """How a range of KFP backend releases runs a container task, where releases differ."""

    name: str
    tags: tuple[str, ...]
    # driver.go, provisionOutputs (2.5.0, #11809): every container task gets an output
    # `executor-logs`, schemaTitle `system.Artifact`; `--publish_logs` defaults to "true"
    # (cmd/driver/main.go). The launcher tees stdout/stderr into it, uploads it and records
    # it as type `system.Artifact` (launcher_v2.go, getLogWriter, uploadOutputArtifacts).
    executor_logs: bool
    # launcher_v2.go, executeV2 (2.16.0, #12877): a failed executor's log is uploaded and
    # recorded too, and the execution published FAILED with that one output.
    executor_logs_of_failures: bool
    # launcher_v2.go, qualifyExecutorLogsForRetry (2.16.1, #13175): the log's URI gets
    # `-<retry index>` (KFP_RETRY_INDEX, "0" on a first attempt); the executor output
    # file's entry for it is ignored.
    executor_logs_per_retry: bool
    # driver.go, provisionOutputs (2.15.0, #12256): `outputs.outputFile` is the local path
    # of the task root + `/output_metadata.json` (/gcs/..., /minio/...); before, the
    # pod's POD_OUTPUT_FILE.
    output_file_in_task_root: bool
    # driver.go, provisionOutputs (2.15.0): each output RuntimeArtifact's `name` is its
    # output key (before: empty); the cache key holds it (cacheutils/cache.go).
    named_outputs: bool
    # driver/cache.go, getFingerPrint (2.15.0, #12220): the PVC names of the task's
    # pvcMount are part of the cache key.
    pvc_names_in_cache_key: bool
    # How the root DAG execution's state follows its tasks (see ROOT_* above).
    root_dag_rule: str
    # compiler/argocompiler/container.go (2.4.1, #11673): a task's retryPolicy becomes
    # Argo's retryStrategy; 2.4.0 and earlier ignore it.
    retries: bool
    # Argo's retryPolicy for KFP's templates: the compiler never sets one, so Argo's
    # default OnFailure applies (a pod that fails is retried, a pod deleted with its
    # node, Argo phase Error, is not); the 2.17.0 manifests set
    # `templateDefaults.retryStrategy.retryPolicy: OnError` for every template
    # (manifests/kustomize/third-party/argo/base/workflow-controller-configmap-patch.yaml,
    # #13485), which a task's own retryStrategy inherits.
    argo_retry_policy: str

    def __str__(self) -> str:
        return f"KFP {self.name}"


# 2.4.0 is 2.4.1 without retries (its compiler ignores retryPolicy).
KFP_2_4 = KfpRelease(
    name="2.4",
    tags=("2.4.1",),
    executor_logs=False,
    executor_logs_of_failures=False,
    executor_logs_per_retry=False,
    output_file_in_task_root=False,
    named_outputs=False,
    pvc_names_in_cache_key=False,
    root_dag_rule=ROOT_BY_EXISTING_CHILDREN,
    retries=True,
    argo_retry_policy="OnFailure",
)
KFP_2_5 = KfpRelease(
    name="2.5-2.14",
    tags=("2.5.0", "2.14.0", "2.14.3", "2.14.4"),
    executor_logs=True,
    executor_logs_of_failures=False,
    executor_logs_per_retry=False,
    output_file_in_task_root=False,
    named_outputs=False,
    pvc_names_in_cache_key=False,
    root_dag_rule=ROOT_BY_TOTAL_DAG_TASKS,
    retries=True,
    argo_retry_policy="OnFailure",
)
KFP_2_15 = KfpRelease(
    name="2.15",
    tags=("2.15.0",),
    executor_logs=True,
    executor_logs_of_failures=False,
    executor_logs_per_retry=False,
    output_file_in_task_root=True,
    named_outputs=True,
    pvc_names_in_cache_key=True,
    root_dag_rule=ROOT_BY_TOTAL_DAG_TASKS,
    retries=True,
    argo_retry_policy="OnFailure",
)
KFP_2_16 = KfpRelease(
    name="2.16.0",
    tags=("2.16.0",),
    executor_logs=True,
    executor_logs_of_failures=True,
    executor_logs_per_retry=False,
    output_file_in_task_root=True,
    named_outputs=True,
    pvc_names_in_cache_key=True,
    root_dag_rule=ROOT_BY_TOTAL_DAG_TASKS,
    retries=True,
    argo_retry_policy="OnFailure",
)
KFP_2_16_1 = KfpRelease(
    name="2.16.1",
    tags=("2.16.1",),
    executor_logs=True,
    executor_logs_of_failures=True,
    executor_logs_per_retry=True,
    output_file_in_task_root=True,
    named_outputs=True,
    pvc_names_in_cache_key=True,
    root_dag_rule=ROOT_BY_TOTAL_DAG_TASKS,
    retries=True,
    argo_retry_policy="OnFailure",
)
KFP_2_17 = KfpRelease(
    name="2.17",
    tags=("2.17.0",),
    executor_logs=True,
    executor_logs_of_failures=True,
    executor_logs_per_retry=True,
    output_file_in_task_root=True,
    named_outputs=True,
    pvc_names_in_cache_key=True,
    root_dag_rule=ROOT_NOT_UPDATED,
    retries=True,
    argo_retry_policy="OnError",
)
RELEASES = (KFP_2_4, KFP_2_5, KFP_2_15, KFP_2_16, KFP_2_16_1, KFP_2_17)
NEWEST = KFP_2_17


@dataclass(frozen=True)
class Change:
    """One backend change a profile field follows, with the evidence at the release tags.

    `needle` (a few words of the Go source or manifest, quoted as a citation) is in
    `path` at tag `since` and not at `before`, the backend release just before it.
    Profiles of releases from `since` on have `field == new`, the others `field == old`.
    `python -m tests.kubeflow.check_kfp_sources GIT_DIR` checks every needle against a
    clone of kubeflow/pipelines; test_kfp_releases.py checks the profiles against this list.
    """

    field: str
    old: object
    new: object
    since: str
    before: str
    path: str
    needle: str


_V2 = "backend/src/v2"
CHANGES = (
    Change("retries", False, True, "2.4.1", "2.4.0",
           f"{_V2}/compiler/argocompiler/container.go", "RetryStrategy"),
    Change("executor_logs", False, True, "2.5.0", "2.4.1",
           f"{_V2}/driver/driver.go", '"executor-logs"'),
    Change("root_dag_rule", ROOT_BY_EXISTING_CHILDREN, ROOT_BY_TOTAL_DAG_TASKS, "2.5.0", "2.4.1",
           f"{_V2}/metadata/client.go", "total_dag_tasks"),
    Change("output_file_in_task_root", False, True, "2.15.0", "2.14.4",
           f"{_V2}/driver/driver.go", 'filepath.Join(localTaskRoot, "output_metadata.json")'),
    Change("named_outputs", False, True, "2.15.0", "2.14.4",
           f"{_V2}/driver/driver.go", "Name: name"),
    Change("pvc_names_in_cache_key", False, True, "2.15.0", "2.14.4",
           f"{_V2}/driver/cache.go", "pvcNames []string"),
    Change("executor_logs_of_failures", False, True, "2.16.0", "2.15.0",
           f"{_V2}/component/launcher_v2.go", "componentSucceeded"),
    Change("executor_logs_per_retry", False, True, "2.16.1", "2.16.0",
           f"{_V2}/component/launcher_v2.go", "qualifyExecutorLogsForRetry"),
    Change("root_dag_rule", ROOT_BY_TOTAL_DAG_TASKS, ROOT_NOT_UPDATED, "2.17.0", "2.16.1",
           f"{_V2}/metadata/client.go", "has no expected task count (root DAG or unknown)"),
    Change("argo_retry_policy", "OnFailure", "OnError", "2.17.0", "2.16.1",
           "manifests/kustomize/third-party/argo/base/workflow-controller-configmap-patch.yaml",
           "retryPolicy: OnError"),
)  # fmt: skip


def release_key(tag: str) -> tuple[int, ...]:
    """'2.16.1' -> (2, 16, 1), for ordering tags."""
    return tuple(int(part) for part in tag.split("."))


def argo_retries(
    release: KfpRelease, retry_policy: dict | None, phase: str, attempts: int, elapsed_s: float
) -> bool:
    """Whether Argo starts another attempt of a task whose attempt ended in `phase`.

    Args:
        release: the KFP release (whether it compiles retries, its Argo retryPolicy).
        retry_policy: the task's compiled KFP retryPolicy, or None.
        phase: "Failed" (the container exited non-zero, or the pod failed with a
            message, e.g. evicted) or "Error" (the pod was deleted: a lost node).
        attempts: attempts made so far.
        elapsed_s: seconds since the FIRST attempt started.

    Argo (workflow/controller/operator.go, processNodeRetries): OnFailure retries Failed
    only, OnError retries Error only; no retry past `limit`, nor once `maxDuration`
    measured from the first attempt's start has passed.
    """
    if not release.retries or not retry_policy:
        return False
    retried_phases = {"OnFailure": {"Failed"}, "OnError": {"Error"}, "Always": {"Failed", "Error"}}
    if phase not in retried_phases[release.argo_retry_policy]:
        return False
    if attempts > int(retry_policy.get("maxRetryCount", 0)):
        return False
    max_duration = float(str(retry_policy.get("backoffMaxDuration", "0")).rstrip("s") or 0)
    return elapsed_s < max_duration
