"""Each KFP release range the replay models, and our entrypoint through each one's shape.

The profiles (`kfp_releases.py`) say what each release range does differently; these
tests check them against the cited changes (so a profile cannot drift from its
evidence, which `python -m tests.kubeflow.check_kfp_sources` checks against KFP's Go
sources), decide retries as Argo does, and replay two cheap tasks of the real compiled
pipeline (DataFingerprint, TfdsExampleGen: a real TFX executor and Beam) through every
release's ExecutorInput, output file, `executor-logs` and cache, twice. The releases'
replays run two at a time (each task is a process that spends most of its start importing
TensorFlow on one core). No cluster runs here: what only a cluster shows is listed in
kubeflow/README.md.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as spec_pb2

from core.config import PipelineConfig
from core.metadata import store
from kubeflow.compile import write_pipeline_yaml
from pipeline.sample_data import generate_sample_dataset
from tests.kubeflow import kfp_releases
from tests.kubeflow.kfp_releases import (
    CHANGES,
    EXECUTOR_LOGS,
    POD_OUTPUT_FILE,
    RELEASES,
    KfpRelease,
    argo_retries,
    release_key,
)
from tests.kubeflow.kfp_replay import KfpReplay, ReplayError, RunResult
from tests.pipeline.mlmd_grpc_server import serve_sqlite

TASKS = ("DataFingerprint", "TfdsExampleGen")
RETRY_POLICY = {"maxRetryCount": 3, "backoffMaxDuration": "172800s"}


# ---- the profiles against the changes they cite ----


@pytest.mark.parametrize("release", RELEASES, ids=str)
def test_every_profile_has_what_the_cited_changes_give_its_tags(release):
    for field in {change.field for change in CHANGES}:
        changes = sorted(
            (c for c in CHANGES if c.field == field), key=lambda c: release_key(c.since)
        )
        for tag in release.tags:
            applied = [c for c in changes if release_key(tag) >= release_key(c.since)]
            expected = applied[-1].new if applied else changes[0].old
            assert getattr(release, field) == expected, f"{field} at {tag}"


def test_each_changes_evidence_names_the_release_just_before_it():
    for change in CHANGES:
        assert release_key(change.before) < release_key(change.since), change


def test_every_field_of_a_profile_follows_cited_changes():
    fields = {f.name for f in dataclasses.fields(KfpRelease)} - {"name", "tags"}
    varying = {f for f in fields if len({getattr(r, f) for r in RELEASES}) > 1}
    cited = {change.field for change in CHANGES}
    assert varying <= cited == fields


def test_profiles_are_ordered_and_the_newest_is_the_last():
    newest_tags = [max(r.tags, key=release_key) for r in RELEASES]
    assert newest_tags == sorted(newest_tags, key=release_key)
    assert kfp_releases.NEWEST is RELEASES[-1]


# ---- Argo's retry decision ----


@pytest.mark.parametrize("release", RELEASES, ids=str)
def test_a_lost_pod_is_retried_only_where_argo_retries_its_phase(release):
    deleted = argo_retries(release, RETRY_POLICY, "Error", attempts=1, elapsed_s=600)
    failed = argo_retries(release, RETRY_POLICY, "Failed", attempts=1, elapsed_s=600)
    # The compiler never sets Argo's retryPolicy: OnFailure, until 2.17.0's manifests.
    assert (deleted, failed) == ((True, False) if release.name == "2.17" else (False, True))


def test_no_retry_without_a_policy_past_the_limit_or_past_the_max_duration():
    release = kfp_releases.KFP_2_16_1
    assert not argo_retries(release, None, "Failed", attempts=1, elapsed_s=0)
    assert argo_retries(release, RETRY_POLICY, "Failed", attempts=3, elapsed_s=0)
    assert not argo_retries(release, RETRY_POLICY, "Failed", attempts=4, elapsed_s=0)
    # Measured from the FIRST attempt's start: a training preempted after 70 minutes is
    # retried under a 48-hour bound, not under the kfp SDK's default of one hour.
    assert argo_retries(release, RETRY_POLICY, "Failed", attempts=1, elapsed_s=70 * 60)
    one_hour = {**RETRY_POLICY, "backoffMaxDuration": "3600s"}
    assert not argo_retries(release, one_hour, "Failed", attempts=1, elapsed_s=70 * 60)


# ---- two tasks of the compiled pipeline, through each release's shape ----


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 40-image sample dataset, an MLMD service, and the compiled package."""
    root = tmp_path_factory.mktemp("releases")
    data_dir = root / "tfds"
    generate_sample_dataset(str(data_dir), num_examples=40, seed=0)
    server, port = serve_sqlite(str(root / "mlmd.sqlite"))
    config = PipelineConfig.for_profile(
        "sample",
        output_dir=str(root / "bucket"),
        data_dir=str(data_dir),
        serving_dir=str(root / "serving"),
        serving_pvc="models-a",
        kfp_mlmd_host="localhost",
        kfp_mlmd_port=port,
        trainer_gpus=0,
    )
    package = write_pipeline_yaml(config, str(root / "pipeline.yaml"))
    yield root, port, config, package
    server.stop(None)


# The releases whose failed task's log the replay checks (KFP 2.16.0 started recording it).
FAILING_RELEASES = (kfp_releases.KFP_2_15, kfp_releases.KFP_2_16)


@pytest.fixture(scope="module")
def replays(tiny) -> dict[str, object]:
    """Every release's two runs, and the failing run of FAILING_RELEASES, two at a time:
    release name -> (first, again); "failing-<name>" -> the ReplayError it raised."""
    root, port, config, package = tiny
    broken = write_pipeline_yaml(
        config.replace(dataset_name="not_prepared_here"), str(root / "broken.yaml")
    )

    def twice(release: KfpRelease) -> tuple[RunResult, RunResult]:
        replay = KfpReplay(package, port, root / f"replay-{release.name}", release=release)
        first = replay.run(f"first-{release.name}", only=TASKS)
        return first, replay.run(f"again-{release.name}", only=TASKS)

    def failing(release: KfpRelease) -> ReplayError | None:
        replay = KfpReplay(broken, port, root / f"failing-{release.name}", release=release)
        try:
            replay.run(f"failing-{release.name}", only=TASKS)
        except ReplayError as error:
            return error
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {release.name: pool.submit(twice, release) for release in RELEASES}
        for release in FAILING_RELEASES:
            futures[f"failing-{release.name}"] = pool.submit(failing, release)
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.kfp_replay  # runs tasks of the pipeline: not in `make test-fast`
@pytest.mark.parametrize("release", RELEASES, ids=str)
def test_each_releases_shape_runs_through_our_entrypoint_and_hits_the_cache(replays, release):
    first, again = replays[release.name]

    assert first.executed() == set(TASKS)
    # The fingerprint travels as a parameter: unchanged data, ExampleGen is a cache hit.
    assert (again.executed(), again.cached()) == ({"DataFingerprint"}, {"TfdsExampleGen"})
    example_gen = first.tasks["TfdsExampleGen"]
    outputs = example_gen.executor_input.outputs
    # executor-logs (2.5.0+): provisioned, set aside by our entrypoint, recorded by the launcher.
    assert (EXECUTOR_LOGS in outputs.artifacts) == release.executor_logs
    assert (EXECUTOR_LOGS in example_gen.outputs) == release.executor_logs
    if release.executor_logs:
        (logs,) = outputs.artifacts[EXECUTOR_LOGS].artifacts
        assert logs.type.schema_title == "system.Artifact"
        assert logs.uri.endswith("-0") == release.executor_logs_per_retry
        recorded_log = Path(example_gen.outputs[EXECUTOR_LOGS].uri).read_text()
        assert "left to the KFP launcher" in recorded_log
        # A cache hit republishes every current output name, executor-logs included.
        assert EXECUTOR_LOGS in again.tasks["TfdsExampleGen"].outputs
    # Output names (2.15.0+) and the executor output file: the pod's /tmp, or the task root.
    assert outputs.artifacts["examples"].artifacts[0].name == (
        "examples" if release.named_outputs else ""
    )
    if release.output_file_in_task_root:
        task_root = os.path.dirname(outputs.artifacts["examples"].artifacts[0].uri)
        assert outputs.output_file == f"{task_root}/output_metadata.json"
        assert os.path.isfile(outputs.output_file)
    else:
        assert outputs.output_file == POD_OUTPUT_FILE
    # TFX's output metadata arrived either way: split names, counts, the fingerprint.
    examples = example_gen.outputs["examples"]
    assert store.string_property(examples, "split_names")
    assert store.string_property(examples, "data_fingerprint") == (
        json_format.MessageToDict(
            example_gen.executor_input.inputs.parameter_values["data_fingerprint"]
        )
    )
    # The root DAG: COMPLETE on 2.4 (every child so far done), RUNNING for ever after.
    by_children = release.root_dag_rule == kfp_releases.ROOT_BY_EXISTING_CHILDREN
    assert first.root_dag_state == ("COMPLETE" if by_children else "RUNNING")


@pytest.mark.kfp_replay
@pytest.mark.parametrize("release", FAILING_RELEASES, ids=str)
def test_a_failed_tasks_log_is_recorded_from_2_16_0(tiny, replays, release):
    root = tiny[0]
    error = replays[f"failing-{release.name}"]
    assert error is not None and "TfdsExampleGen: FAILED" in str(error)
    db = store.connect(store.Target(sqlite_path=str(root / "mlmd.sqlite")))
    (run,) = [
        r
        for r in store.pipeline_runs(db, "image-transfer-learning")
        if r.name == f"failing-{release.name}"
    ]
    failed = {
        e.type: e
        for e in db.get_executions_by_context(run.id)
        if store.execution_state(e) == "failed"
    }
    # 2.5.0-2.16.1: a failure sets the root DAG FAILED once a sibling (DataFingerprint) is done.
    assert set(failed) == {"system.ContainerExecution", "system.DAGExecution"}
    failed = failed["system.ContainerExecution"]
    outputs = store.artifacts_by_execution(db, [failed.id])[failed.id].outputs
    assert set(outputs) == ({EXECUTOR_LOGS} if release.executor_logs_of_failures else set())
    if outputs:
        assert "not_prepared_here" in Path(outputs[EXECUTOR_LOGS].uri).read_text()


def test_pvc_names_enter_the_cache_key_from_2_15_0(tiny):
    """driver/cache.go (getFingerPrint): two packages that differ only in the Pusher's claim."""
    root, port, config, package = tiny
    other = write_pipeline_yaml(config.replace(serving_pvc="models-b"), str(root / "pvc-b.yaml"))
    executor_input = spec_pb2.ExecutorInput()
    executor_input.inputs.artifacts["model"].artifacts.add(name="7", uri="/m")
    for release in (kfp_releases.KFP_2_5, kfp_releases.KFP_2_15):
        keys = {
            KfpReplay(p, port, root / "keys", release=release).task_fingerprint(
                "Pusher", executor_input
            )
            for p in (package, other)
        }
        assert len(keys) == (2 if release.pvc_names_in_cache_key else 1), release
