"""submit, schedule, runs and unschedule against a recording stand-in for the KFP v2beta1 API.

This is a contract test, not a cluster: `KfpApiStub` (loopback only) records what
kfp.Client sends and answers with canned bodies shaped like the KFP v2beta1 REST
API. The tests assert the exact requests each command sends, and the one clear
error for a missing host, an unreachable host and rejected credentials.
"""

from __future__ import annotations

import hashlib
import json
import socket

import pytest
import yaml

from kubeflow.cli import main
from tests.kubeflow.conftest import CLUSTER_FLAGS
from tests.kubeflow.kfp_api_stub import API, EXPERIMENT, KfpApiStub

TOKEN = "test-token-4c1e"
PIPELINE_ROOT = "gs://bucket/image-transfer/pipeline_root"
EXPERIMENT_FILTER = {
    "predicates": [
        {"operation": "EQUALS", "key": "display_name", "stringValue": "image-transfer-learning"}
    ]
}


@pytest.fixture(autouse=True)
def kfp_environment(monkeypatch):
    """No host or credentials from the machine running the tests; a known token."""
    for name in ("KF_PIPELINES_ENDPOINT", "KF_PIPELINES_SA_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KF_PIPELINES_TOKEN", TOKEN)


@pytest.fixture
def api():
    with KfpApiStub() as stub:
        yield stub


UPLOAD_CALLS = [
    ("GET", f"{API}/pipelines"),
    ("POST", f"{API}/pipelines/upload"),
    ("POST", f"{API}/pipelines/upload_version"),
]


def test_submit_uploads_a_pipeline_version_and_runs_it(api, compiled, capsys):
    code = main(["submit", *CLUSTER_FLAGS, "--kfp-host", api.url, "--run-name", "nightly-1"])

    assert code == 0, capsys.readouterr().err
    assert api.calls() == [
        ("GET", f"{API}/healthz"),
        *UPLOAD_CALLS,
        ("GET", f"{API}/experiments"),
        ("POST", f"{API}/experiments"),
        ("POST", f"{API}/runs"),
    ]
    lookup_pipeline, upload, upload_version, lookup, create_experiment, create_run = api.requests[
        1:
    ]
    # kfp's get_pipeline_id writes the operation as its enum number.
    predicate = json.loads(lookup_pipeline.query["filter"][0])["predicates"][0]
    assert predicate["stringValue"] == "image-transfer-learning"
    assert upload.query["name"] == ["image-transfer-learning"]
    assert upload_version.query["pipelineid"] == ["p-1"]
    version_name = upload_version.query["name"][0]
    assert version_name.startswith("image-transfer-learning-")
    # The version is this very compilation (named by its digest) ...
    sent = upload_version.body["uploadfile"]
    assert version_name.endswith(hashlib.sha256(sent.encode()).hexdigest()[:12])
    assert list(yaml.safe_load_all(sent)) == list(yaml.safe_load_all(compiled.text))
    assert TOKEN not in sent
    # ... and the run references it instead of carrying a spec of its own.
    assert json.loads(lookup.query["filter"][0])["predicates"][0]["stringValue"] == (
        "image-transfer-learning"
    )
    assert create_experiment.body == {"display_name": "image-transfer-learning", "namespace": ""}
    assert create_run.body == {
        "experiment_id": "exp-1",
        "display_name": "nightly-1",
        "pipeline_version_reference": {"pipeline_id": "p-1", "pipeline_version_id": "pv-1"},
        "runtime_config": {"parameters": {}, "pipeline_root": PIPELINE_ROOT},
    }
    assert all(r.authorization == f"Bearer {TOKEN}" for r in api.requests)
    out = capsys.readouterr()
    assert "run: run-1" in out.out and f"pipeline version: {version_name} (pv-1)" in out.out
    assert TOKEN not in out.out + out.err


def test_an_existing_pipeline_gets_a_new_version_only(api, capsys):
    api.pipelines.append({"pipeline_id": "p-9", "display_name": "image-transfer-learning"})

    assert main(["submit", *CLUSTER_FLAGS, "--kfp-host", api.url]) == 0, capsys.readouterr().err

    assert ("POST", f"{API}/pipelines/upload") not in api.calls()
    (upload_version,) = [r for r in api.requests if r.path.endswith("upload_version")]
    assert upload_version.query["pipelineid"] == ["p-9"]


def test_no_enable_cache_uploads_a_version_with_caching_off_for_every_task(api, capsys):
    assert main(["submit", *CLUSTER_FLAGS, "--kfp-host", api.url, "--no-enable-cache"]) == 0

    (upload_version,) = [r for r in api.requests if r.path.endswith("upload_version")]
    spec = next(yaml.safe_load_all(upload_version.body["uploadfile"]))
    tasks = spec["root"]["dag"]["tasks"]
    assert not [n for n, task in tasks.items() if task.get("cachingOptions", {}).get("enableCache")]


def test_schedule_creates_a_recurring_run_of_the_uploaded_version_without_catch_up(api, capsys):
    code = main(["schedule", *CLUSTER_FLAGS, "--kfp-host", api.url, "--cron", "0 30 2 * * MON-FRI"])

    assert code == 0, capsys.readouterr().err
    assert api.calls() == [
        ("GET", f"{API}/healthz"),
        ("GET", f"{API}/experiments"),  # no experiment yet: no recurring run to clash with
        *UPLOAD_CALLS,
        ("GET", f"{API}/experiments"),
        ("POST", f"{API}/experiments"),
        ("POST", f"{API}/recurringruns"),
    ]
    assert api.requests[-1].body == {
        "experiment_id": "exp-1",
        "display_name": "image-transfer-learning-schedule",
        "mode": "ENABLE",
        "trigger": {"cron_schedule": {"cron": "0 30 2 * * MON-FRI"}},
        "max_concurrency": 1,
        "no_catchup": True,
        "pipeline_version_reference": {"pipeline_id": "p-1", "pipeline_version_id": "pv-1"},
        "runtime_config": {"parameters": {}, "pipeline_root": PIPELINE_ROOT},
    }
    assert "recurring run: rr-1" in capsys.readouterr().out


def test_schedule_twice_is_refused_naming_the_recurring_run_and_changes_nothing(api, capsys):
    api.experiments.append(EXPERIMENT)
    api.recurring_runs.append(
        {"recurring_run_id": "rr-7", "display_name": "image-transfer-learning-schedule"}
    )

    assert main(["schedule", *CLUSTER_FLAGS, "--kfp-host", api.url]) == 1

    error = capsys.readouterr().err
    assert "'image-transfer-learning-schedule' already exists (rr-7)" in error
    assert "--replace" in error and "unschedule" in error
    assert [m for m, _ in api.calls()] == ["GET", "GET", "GET"]  # nothing uploaded or created


def test_schedule_replace_deletes_the_old_recurring_run_and_creates_one(api, capsys):
    api.experiments.append(EXPERIMENT)
    api.recurring_runs.append(
        {"recurring_run_id": "rr-7", "display_name": "image-transfer-learning-schedule"}
    )

    assert main(["schedule", *CLUSTER_FLAGS, "--kfp-host", api.url, "--replace"]) == 0

    calls = api.calls()
    assert calls.count(("POST", f"{API}/recurringruns")) == 1
    delete = calls.index(("DELETE", f"{API}/recurringruns/rr-7"))
    assert delete < calls.index(("POST", f"{API}/recurringruns"))
    out = capsys.readouterr().out
    assert "replaced recurring run(s): rr-7" in out and "recurring run: rr-1" in out


def test_unschedule_deletes_the_recurring_run_of_this_pipeline(api, capsys):
    api.experiments.append(EXPERIMENT)
    api.recurring_runs.append(
        {"recurring_run_id": "rr-7", "display_name": "image-transfer-learning-schedule"}
    )

    assert main(["unschedule", "--kfp-host", api.url]) == 0

    assert api.calls() == [
        ("GET", f"{API}/healthz"),
        ("GET", f"{API}/experiments"),
        ("GET", f"{API}/recurringruns"),
        ("DELETE", f"{API}/recurringruns/rr-7"),
    ]
    experiments, recurring = api.requests[1], api.requests[2]
    assert json.loads(experiments.query["filter"][0]) == EXPERIMENT_FILTER
    assert recurring.query["experiment_id"] == ["exp-1"]
    assert json.loads(recurring.query["filter"][0])["predicates"][0]["stringValue"] == (
        "image-transfer-learning-schedule"
    )
    assert "rr-7" in capsys.readouterr().out


def test_unschedule_without_a_schedule_says_so(api, capsys):
    api.experiments.append(EXPERIMENT)
    assert main(["unschedule", "--kfp-host", api.url]) == 1
    assert "no recurring run named 'image-transfer-learning-schedule'" in capsys.readouterr().err
    assert ("DELETE", f"{API}/recurringruns/rr-7") not in api.calls()


def test_runs_lists_the_newest_runs_with_their_state(api, capsys):
    api.experiments.append(EXPERIMENT)
    api.runs.append(
        {
            "run_id": "run-9",
            "display_name": "nightly-9",
            "state": "SUCCEEDED",
            "created_at": "2026-11-29T03:00:00Z",
        }
    )

    assert main(["runs", "--kfp-host", api.url, "--limit", "5"]) == 0

    listing = api.requests[-1]
    assert (listing.method, listing.path) == ("GET", f"{API}/runs")
    assert listing.query == {
        "experiment_id": ["exp-1"],
        "page_size": ["5"],
        "sort_by": ["created_at desc"],
    }
    assert "run-9\tSUCCEEDED\t2026-11-29 03:00:00+00:00\tnightly-9" in capsys.readouterr().out


def test_missing_host_names_the_flag_and_the_variable(capsys):
    assert main(["runs"]) == 1
    error = capsys.readouterr().err
    assert "--kfp-host" in error and "KF_PIPELINES_ENDPOINT" in error


def test_unreachable_host_is_one_clear_error(capsys):
    with socket.socket() as unused:  # a port nobody listens on once closed
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert main(["runs", "--kfp-host", f"http://127.0.0.1:{port}"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: cannot reach Kubeflow Pipelines at http://127.0.0.1:{port}")
    assert "--kfp-host" in error and "Traceback" not in error


def test_rejected_credentials_name_the_variables_and_never_show_the_token(capsys):
    with KfpApiStub(reject_auth=True) as api:
        assert main(["runs", "--kfp-host", api.url]) == 1
    assert api.requests[-1].authorization == f"Bearer {TOKEN}"
    out = capsys.readouterr()
    assert "rejected the credentials (HTTP 401" in out.err
    assert "KF_PIPELINES_TOKEN" in out.err and "KF_PIPELINES_SA_TOKEN_PATH" in out.err
    assert TOKEN not in out.out + out.err


@pytest.mark.parametrize("cron", ["0 3 * * *", "0 0 3 * * * *", "0 0 27 * * *", "every day"])
def test_schedule_rejects_a_bad_cron_before_contacting_the_cluster(cron, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["schedule", *CLUSTER_FLAGS, "--kfp-host", "http://127.0.0.1:9", "--cron", cron])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert f"--cron {cron!r}" in error and "'0 0 3 * * *'" in error


def test_multi_user_namespace_and_host_from_the_environment(api, monkeypatch, capsys):
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", api.url)

    assert main(["schedule", *CLUSTER_FLAGS, "--kfp-namespace", "team-a"]) == 0

    assert api.calls() == [
        ("GET", f"{API}/experiments"),
        *UPLOAD_CALLS,
        ("GET", f"{API}/experiments"),
        ("POST", f"{API}/experiments"),
        ("POST", f"{API}/recurringruns"),
    ]
    lookup, _, upload, _, _, create_experiment, _ = api.requests
    assert lookup.query["namespace"] == ["team-a"]
    assert upload.query["namespace"] == ["team-a"]
    assert create_experiment.body == {
        "display_name": "image-transfer-learning",
        "namespace": "team-a",
    }


def test_service_account_token_file_is_sent_and_a_missing_one_is_named(
    api, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("KF_PIPELINES_TOKEN")
    token_file = tmp_path / "token"
    token_file.write_text("sa-token-9f2")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token_file))
    assert main(["runs", "--kfp-host", api.url]) == 0
    assert {r.authorization for r in api.requests} == {"Bearer sa-token-9f2"}

    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(tmp_path / "missing"))
    assert main(["runs", "--kfp-host", api.url]) == 1
    assert "KF_PIPELINES_SA_TOKEN_PATH=" in capsys.readouterr().err


FAILED_RUN = {
    "run_id": "run-7",
    "display_name": "image-transfer-learning 2026-11-30 03:00:00",
    "experiment_id": "exp-1",
    "state": "FAILED",
    "pipeline_version_reference": {"pipeline_id": "p-1", "pipeline_version_id": "pv-3"},
    "runtime_config": {"parameters": {}, "pipeline_root": PIPELINE_ROOT},
}


def test_resume_starts_the_failed_runs_version_again_in_its_experiment(api, capsys):
    """What the new run then does (cache hits, the Trainer resuming) is replayed in
    tests/kubeflow/test_kfp_replay.py; here, the request kfp.Client sends."""
    api.runs.append(FAILED_RUN)

    assert main(["resume", "run-7", "--kfp-host", api.url]) == 0, capsys.readouterr().err

    assert api.calls() == [
        ("GET", f"{API}/healthz"),
        ("GET", f"{API}/runs/run-7"),
        ("POST", f"{API}/runs"),
    ]
    assert api.requests[-1].body == {
        "experiment_id": "exp-1",
        "display_name": "image-transfer-learning 2026-11-30 03:00:00 (resumes run-7)",
        "pipeline_version_reference": {"pipeline_id": "p-1", "pipeline_version_id": "pv-3"},
        "runtime_config": {"parameters": {}, "pipeline_root": PIPELINE_ROOT},
    }
    assert "run: run-1 (image-transfer-learning 2026-11-30 03:00:00 (resumes run-7))" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("state", "says"),
    [("SUCCEEDED", "nothing to resume"), ("RUNNING", "wait for it to end")],
)
def test_resume_refuses_a_run_that_did_not_fail_and_starts_nothing(api, capsys, state, says):
    api.runs.append({**FAILED_RUN, "state": state})
    assert main(["resume", "run-7", "--kfp-host", api.url]) == 1
    assert f"error: run run-7 is {state}: {says}" in capsys.readouterr().err
    assert ("POST", f"{API}/runs") not in api.calls()


def test_resume_of_an_unknown_run_names_the_command_that_lists_runs(api, capsys):
    assert main(["resume", "run-x", "--kfp-host", api.url]) == 1
    error = capsys.readouterr().err
    assert "no run 'run-x'" in error and "python -m kubeflow runs" in error


def test_resume_as_a_user_types_it(api):
    """In a subprocess, with only the flag a newcomer passes (the host from the environment)."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    api.runs.append(FAILED_RUN)
    process = subprocess.run(
        [sys.executable, "-m", "kubeflow", "resume", "run-7"],
        env={**os.environ, "KF_PIPELINES_ENDPOINT": api.url, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr
    assert "\nrun: run-1 (image-transfer-learning" in process.stdout
    assert ("POST", f"{API}/runs") in api.calls()
