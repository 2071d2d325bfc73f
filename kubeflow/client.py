"""Talks to the Kubeflow Pipelines v2 API through kfp.Client: submit, schedule, list, unschedule.

Every run and schedule starts from a pipeline version uploaded by this module (the
pipeline `<pipeline-name>`, one version per compilation, named by time and content
digest), so the KFP UI shows which compiled spec each run executed.

Host, namespace and credentials come from flags or the environment variables kfp
itself knows; a token is handed to kfp.Client and never printed or written anywhere.
Any failure to reach or authenticate against the API becomes one `KfpConnectionError`
whose message names the flag or variable to set.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import kfp
import kfp_server_api
import urllib3
from kfp.client import set_volume_credentials

from core.config import PipelineConfig

HOST_ENV = "KF_PIPELINES_ENDPOINT"  # read by kfp.Client itself
TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"  # kfp's service-account token file
TOKEN_ENV = "KF_PIPELINES_TOKEN"  # a bearer token, e.g. from `gcloud auth print-access-token`


class KfpConnectionError(RuntimeError):
    """The KFP API cannot be used; the message says which flag or variable fixes it."""


class ScheduleExistsError(RuntimeError):
    """`schedule` would create a second recurring run of this pipeline."""


class ResumeError(RuntimeError):
    """`resume` cannot start the run asked for; the message says why and what to do."""


# A run in these states may be resumed; one still going must end first, one that
# succeeded has nothing to resume (KFP v2beta1 RuntimeState).
RESUMABLE_STATES = ("FAILED", "CANCELED")


@dataclass
class PipelineVersion:
    pipeline_id: str
    version_id: str
    name: str


@dataclass
class Connection:
    """A kfp.Client and the host it talks to (named in every connection error)."""

    client: kfp.Client
    host: str


@dataclass
class RunStatus:
    run_id: str
    name: str
    state: str
    created_at: str


def connect(config: PipelineConfig) -> Connection:
    """A kfp.Client for the configured host, namespace and credentials.

    Args:
        config: reads `kubeflow.kfp_host` (else $KF_PIPELINES_ENDPOINT) and
            `kubeflow.kfp_namespace`; credentials come from $KF_PIPELINES_TOKEN or the
            service-account token file named by $KF_PIPELINES_SA_TOKEN_PATH.

    Returns:
        A Connection that remembers the host, so later errors can name it.

    Raises:
        KfpConnectionError: no host configured, a missing token file, or the API is
            unreachable (the message says which and how to fix it).
    """
    host = config.kubeflow.kfp_host or os.environ.get(HOST_ENV, "")
    if not host:
        raise KfpConnectionError(
            f"no Kubeflow Pipelines host: pass --kfp-host URL or set {HOST_ENV} "
            "(e.g. http://localhost:8080 after "
            "`kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80`)"
        )
    options: dict = {"host": host}
    if config.kubeflow.kfp_namespace:
        options["namespace"] = config.kubeflow.kfp_namespace
    if os.environ.get(TOKEN_ENV):
        options["existing_token"] = os.environ[TOKEN_ENV]
    elif os.environ.get(TOKEN_PATH_ENV):
        if not os.path.isfile(os.environ[TOKEN_PATH_ENV]):
            raise KfpConnectionError(
                f"{TOKEN_PATH_ENV}={os.environ[TOKEN_PATH_ENV]} is not a file: point it at the "
                "service-account token kubelet mounts, or unset it"
            )
        options["credentials"] = set_volume_credentials.ServiceAccountTokenVolumeCredentials()
    with _explained(host):
        return Connection(kfp.Client(**options), host)


def upload_version(connection: Connection, config: PipelineConfig, package: str) -> PipelineVersion:
    """Uploads `package` as a new version of the pipeline `<pipeline-name>` (created if missing).

    The version is named `<pipeline-name>-<UTC time>-<sha256 of the package, 12 digits>`,
    so two versions with the same spec are recognisable in the UI.

    Args:
        connection: from `connect`.
        config: the pipeline name and namespace.
        package: path of the compiled pipeline YAML.

    Returns:
        The pipeline's id, the new version's id and name.

    Raises:
        KfpConnectionError: the API refused or could not be reached.
    """
    client, name = connection.client, config.runner.pipeline_name
    with open(package, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    version_name = f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{digest}"
    with _explained(connection.host):
        pipeline_id = client.get_pipeline_id(name)
        if pipeline_id is None:
            pipeline_id = client.upload_pipeline(
                package, pipeline_name=name, namespace=config.kubeflow.kfp_namespace or None
            ).pipeline_id
        version = client.upload_pipeline_version(package, version_name, pipeline_id=pipeline_id)
    return PipelineVersion(pipeline_id, version.pipeline_version_id, version_name)


def submit(
    connection: Connection, config: PipelineConfig, version: PipelineVersion, run_name: str
) -> str:
    """Starts one run of the uploaded `version` in the configured experiment.

    Args:
        connection: from `connect`.
        config: the experiment, namespace and pipeline root of the run.
        version: from `upload_version`.
        run_name: the run's display name.

    Returns:
        The new run's id.

    Raises:
        KfpConnectionError: the API refused or could not be reached.
    """
    client = connection.client
    with _explained(connection.host):
        experiment_id = _experiment_id(client, config, create=True)
        run = client.run_pipeline(
            experiment_id=experiment_id,
            job_name=run_name,
            pipeline_id=version.pipeline_id,
            version_id=version.version_id,
            pipeline_root=config.pipeline_root,
        )
    return run.run_id


def resume(connection: Connection, run_id: str) -> tuple[str, str]:
    """Starts a new run of the pipeline version a failed run executed, to finish its work.

    The new run has the failed run's version, experiment and pipeline root. Every task
    whose inputs did not change is a cache hit of the failed run (the data is
    fingerprinted again, and is cached while unchanged); the Trainer finds the backup
    of the last epoch the lost pod finished in the pipeline root, which all runs share,
    and resumes at the next one. This is for what Argo's retries do not cover: a pod
    lost with its node ("pod deleted", Argo phase Error, retried only where
    `retryPolicy` is OnError or Always), retries used up, or a run canceled.

    Args:
        connection: from `connect`.
        run_id: the failed (or canceled) run, as `python -m kubeflow runs` lists it.

    Returns:
        (the new run's id, its display name).

    Raises:
        ResumeError: the run is still going, succeeded, or was not started from an
            uploaded pipeline version.
        KfpConnectionError: the API refused or could not be reached.
    """
    client = connection.client
    with _explained(connection.host):
        try:
            run = client.get_run(run_id)
        except kfp_server_api.ApiException as error:
            if error.status != 404:
                raise
            raise ResumeError(
                f"no run {run_id!r}: `python -m kubeflow runs` lists the runs and their ids"
            ) from None
    if run.state not in RESUMABLE_STATES:
        advice = (
            "nothing to resume"
            if run.state == "SUCCEEDED"
            else "wait for it to end, or terminate it in the KFP UI first"
        )
        raise ResumeError(f"run {run_id} is {run.state}: {advice}")
    version = run.pipeline_version_reference
    if version is None or not version.pipeline_version_id:
        raise ResumeError(
            f"run {run_id} was not started from an uploaded pipeline version (a package "
            "submitted directly): start it again with `python -m kubeflow submit`"
        )
    runtime = run.runtime_config
    name = f"{run.display_name} (resumes {run_id})"
    with _explained(connection.host):
        started = client.run_pipeline(
            experiment_id=run.experiment_id,
            job_name=name,
            pipeline_id=version.pipeline_id,
            version_id=version.pipeline_version_id,
            params=dict(getattr(runtime, "parameters", None) or {}),
            pipeline_root=getattr(runtime, "pipeline_root", None),
        )
    return started.run_id, name


def delete_runs(connection: Connection, run_ids: set[str]) -> None:
    """Deletes runs from KFP, and with them their entries in KFP's cache.

    `python -m kubeflow gc` removes artifacts' files; KFP's cache would still hand them
    out (it checks neither their state nor their existence), unless the runs that wrote
    them are gone: deleting a run deletes its tasks, which are the cache's entries.
    A run already deleted is skipped.
    """
    with _explained(connection.host):
        for run_id in sorted(run_ids):
            try:
                connection.client.delete_run(run_id)
            except kfp_server_api.ApiException as error:
                if error.status != 404:
                    raise


def existing_schedules(connection: Connection, config: PipelineConfig) -> list[str]:
    """Ids of the recurring runs named `<pipeline-name>-schedule` in the experiment."""
    response = _list_in_experiment(
        connection,
        config,
        lambda experiment_id: connection.client.list_recurring_runs(
            experiment_id=experiment_id, filter=_name_filter(schedule_name(config)), page_size=100
        ),
    )
    return [r.recurring_run_id for r in getattr(response, "recurring_runs", None) or []]


def check_can_schedule(connection: Connection, config: PipelineConfig, replace: bool) -> list[str]:
    """The recurring runs `schedule` must replace; refuses to add a second one without `replace`.

    Args:
        connection: from `connect`.
        config: names the experiment and the recurring run (`schedule_name`).
        replace: whether an existing recurring run of this name may be replaced.

    Returns:
        The ids of the recurring runs to delete ([] when there are none).

    Raises:
        ScheduleExistsError: a recurring run of this name exists and `replace` is False.
        KfpConnectionError: the API refused or could not be reached.
    """
    existing = existing_schedules(connection, config)
    if existing and not replace:
        raise ScheduleExistsError(
            f"the recurring run {schedule_name(config)!r} already exists ({', '.join(existing)}): "
            "pass --replace to replace it with this compilation, or run `unschedule` first"
        )
    return existing


def schedule(
    connection: Connection, config: PipelineConfig, version: PipelineVersion, replace: list[str]
) -> str:
    """Creates the recurring run of `version` on `--cron`, after deleting `replace`; returns its id.

    No catch-up: after a pause the schedule starts the latest run only, instead of
    one training per missed day.

    Args:
        connection: from `connect`.
        config: cron, max concurrency, experiment and pipeline root.
        version: from `upload_version`.
        replace: ids of recurring runs to delete first (from `check_can_schedule`).

    Returns:
        The recurring run's id.

    Raises:
        KfpConnectionError: the API refused or could not be reached.
    """
    kubeflow, client = config.kubeflow, connection.client
    with _explained(connection.host):
        for recurring_run_id in replace:
            client.delete_recurring_run(recurring_run_id)
        experiment_id = _experiment_id(client, config, create=True)
        recurring = client.create_recurring_run(
            experiment_id=experiment_id,
            job_name=schedule_name(config),
            cron_expression=kubeflow.cron,
            max_concurrency=kubeflow.max_concurrency,
            no_catchup=True,
            pipeline_id=version.pipeline_id,
            version_id=version.version_id,
            pipeline_root=config.pipeline_root,
        )
    return recurring.recurring_run_id


def unschedule(connection: Connection, config: PipelineConfig) -> list[str]:
    """Deletes the recurring runs `schedule` created for this pipeline.

    Args:
        connection: from `connect`.
        config: names the experiment and the recurring run (`schedule_name`).

    Returns:
        The ids of the deleted recurring runs ([] when there were none).

    Raises:
        KfpConnectionError: the API refused or could not be reached.
    """
    ids = existing_schedules(connection, config)
    with _explained(connection.host):
        for recurring_run_id in ids:
            connection.client.delete_recurring_run(recurring_run_id)
    return ids


def recent_runs(connection: Connection, config: PipelineConfig, limit: int) -> list[RunStatus]:
    """The newest runs of the experiment, newest first.

    Args:
        connection: from `connect`.
        config: names the experiment.
        limit: how many runs at most.

    Returns:
        One RunStatus per run ([] when the experiment does not exist yet).

    Raises:
        KfpConnectionError: the API refused or could not be reached.
    """
    response = _list_in_experiment(
        connection,
        config,
        lambda experiment_id: connection.client.list_runs(
            experiment_id=experiment_id, page_size=limit, sort_by="created_at desc"
        ),
    )
    return [
        RunStatus(run.run_id, run.display_name, run.state or "", str(run.created_at or ""))
        for run in getattr(response, "runs", None) or []
    ]


def schedule_name(config: PipelineConfig) -> str:
    """The recurring run's name: one per pipeline, so `unschedule` finds what `schedule` made."""
    return f"{config.runner.pipeline_name}-schedule"


def _list_in_experiment(
    connection: Connection, config: PipelineConfig, list_call: Callable[[str], Any]
) -> Any:
    """`list_call(experiment id)`, or None when the experiment does not exist yet."""
    with _explained(connection.host):
        experiment_id = _experiment_id(connection.client, config, create=False)
        return None if experiment_id is None else list_call(experiment_id)


def _experiment_id(client: kfp.Client, config: PipelineConfig, create: bool) -> str | None:
    kubeflow = config.kubeflow
    namespace = kubeflow.kfp_namespace or None
    if create:
        return client.create_experiment(kubeflow.kfp_experiment, namespace=namespace).experiment_id
    response = client.list_experiments(
        filter=_name_filter(kubeflow.kfp_experiment), namespace=namespace, page_size=1
    )
    experiments = response.experiments or []
    return experiments[0].experiment_id if experiments else None


def _name_filter(display_name: str) -> str:
    return json.dumps(
        {
            "predicates": [
                {"operation": "EQUALS", "key": "display_name", "stringValue": display_name}
            ]
        }
    )


@contextlib.contextmanager
def _explained(client_or_host: kfp.Client | str) -> Iterator[None]:
    """Turns transport and auth failures of the KFP API into one KfpConnectionError."""
    host = (
        client_or_host if isinstance(client_or_host, str) else client_or_host._existing_config.host  # noqa: SLF001 - kfp keeps no public copy
    )
    try:
        yield
    except (urllib3.exceptions.HTTPError, TimeoutError) as error:
        # TimeoutError: kfp.Client gave up on the health check after its retries.
        raise KfpConnectionError(
            f"cannot reach Kubeflow Pipelines at {host} ({type(error).__name__}): check --kfp-host "
            f"or {HOST_ENV}, and that the API is reachable (e.g. `kubectl port-forward`)"
        ) from None
    except kfp_server_api.ApiException as error:
        if error.status in (401, 403):
            raise KfpConnectionError(
                f"Kubeflow Pipelines at {host} rejected the credentials (HTTP {error.status} "
                f"{error.reason}): set {TOKEN_ENV} to a valid bearer token or {TOKEN_PATH_ENV} "
                "to a service-account token file, and --kfp-namespace to a namespace you may use"
            ) from None
        raise
