"""`models list|show|promote|rollback` over the MLMD of two real runs (e2e_run, worse_run).

The mutating tests (promote, rollback) work on a copy of worse_run's MLMD and
serving dir, so the other tests see the runs as the pipeline left them.
"""

import getpass
import json
import os
import shutil

import pytest

from core.metadata import models as registry
from core.metadata import store
from pipeline.cli import main
from pipeline.registry import commands
from tests.conftest import run_cli
from tests.pipeline.mlmd_grpc_server import serve_sqlite

pytestmark = pytest.mark.e2e

MODEL_NAME = "cats_vs_dogs_sample"


@pytest.fixture(scope="module")
def registry_dir(worse_run, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("registry") / "outputs"
    shutil.copytree(
        worse_run.output_dir, output_dir, ignore=shutil.ignore_patterns("pipeline_root", "logs")
    )
    return output_dir


@pytest.fixture(scope="module")
def models(worse_run):
    """(good, worse): the records of e2e_run's and worse_run's models."""
    db = store.connect(store.Target(sqlite_path=str(worse_run.output_dir / "metadata.sqlite")))
    good, worse = registry.list_models(db)
    return good, worse


def models_cli(capsys, *args: str) -> tuple[int, str, str]:
    """`python -m pipeline models ARGS` in this process (saves a TensorFlow import per call)."""
    code = main(["models", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_has_both_runs_with_metrics_blessing_and_pushed_version(models, e2e_run, worse_run):
    good, worse = models
    assert (good.run_id, worse.run_id) == (e2e_run.summary["run_id"], worse_run.summary["run_id"])
    assert good.profile == worse.profile == "sample"
    assert good.blessed is True and worse.blessed is False
    assert [(p.version, p.action) for p in good.publications] == [(1, "push")]
    assert worse.publications == []
    assert good.baseline_id is None  # first run: value threshold only
    assert worse.baseline_id == good.id  # compared against the latest blessed model


def test_list_is_a_readable_table_in_a_terminal(e2e_run, worse_run):
    result = run_cli(
        "models", "list", "--output-dir", str(worse_run.output_dir), cwd=worse_run.output_dir
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no library warnings
    header, *rows = result.stdout.splitlines()
    names = [
        "ID", "RUN", "TRAINED (UTC)", "DATASET", "CLASSES", "ACCURACY", "AUC", "BLESSED",
        "VERSIONS",
    ]  # fmt: skip
    starts = [header.index(name) for name in names]
    assert starts == sorted(starts)  # one aligned column per field
    cells = [
        {n: row[a:b].strip() for n, a, b in zip(names, starts, starts[1:] + [None], strict=True)}
        for row in rows
    ]
    assert [c["RUN"] for c in cells] == [e2e_run.summary["run_id"], worse_run.summary["run_id"]]
    assert float(cells[0]["ACCURACY"]) == pytest.approx(
        e2e_run.summary["eval_metrics"]["binary_accuracy"], abs=1e-4
    )
    serving = e2e_run.output_dir / "serving" / "cats_vs_dogs_sample"
    assert [(c["BLESSED"], c["VERSIONS"]) for c in cells] == [
        ("blessed", f"1 (pushed, serving) in {serving}"),
        ("not blessed", "-"),
    ]
    assert {(c["DATASET"], c["CLASSES"]) for c in cells} == {("cats_vs_dogs_sample", "cat, dog")}


def test_list_json_is_machine_readable(capsys, models, worse_run):
    code, out, _ = models_cli(capsys, "list", "--json", "--output-dir", str(worse_run.output_dir))
    assert code == 0
    listed = json.loads(out)
    good, worse = models
    assert [m["id"] for m in listed] == [good.id, worse.id]
    assert listed[0]["publications"][0]["version"] == 1
    expected = worse_run.summary["eval_metrics"]["binary_accuracy"]
    assert listed[1]["metrics"]["binary_accuracy"] == pytest.approx(expected)
    assert listed[1]["blessed"] is False and listed[1]["trained_at"].endswith("Z")


def test_show_gives_metrics_thresholds_verdict_and_lineage(worse_run, models):
    db = store.connect(store.Target(sqlite_path=str(worse_run.output_dir / "metadata.sqlite")))
    details = commands.show(db, models[1].id)
    assert details["thresholds"] == [
        "binary_accuracy >= 0.7",
        "binary_accuracy change >= -0.1 against the latest blessed model",
    ]
    assert details["failed_thresholds"] == worse_run.summary["not_blessed_because"]
    assert set(details["metrics_by_slice"]) == {"overall", "label=0", "label=1"}
    assert details["metrics_by_slice"]["label=1"]["example_count"] > 0
    lineage = details["lineage"]
    assert lineage["dataset"]["name"] == "cats_vs_dogs_sample"
    assert lineage["dataset"]["splits"] == {
        "train": "train[:40%]",
        "eval": "train[40%:50%]",
        "test": "train[50%:60%]",
    }
    assert lineage["dataset"]["data_dir"] == worse_run.data_dir
    assert os.path.isdir(os.path.join(lineage["transform_graph"], "transform_fn"))
    assert lineage["trainer"]["custom_config"]["training"]["head_learning_rate"] == 1e-9
    text = commands.format_details(details)
    assert "not blessed" in text and "failed: binary_accuracy = " in text
    assert "dataset: cats_vs_dogs_sample" in text and "transform graph: " in text
    assert "  dataset cats_vs_dogs_sample, classes cat, dog" in text
    # Only metrics defined in a slice: one class has no ROC curve, and nothing is NaN.
    (dogs,) = [line for line in text.splitlines() if "metrics [dog (label 1)]" in line]
    assert "example_count=" in dogs and "auc" not in dogs
    assert "nan" not in text.lower()


def test_promote_refuses_an_unblessed_model_unless_forced_with_a_reason(
    capsys, registry_dir, models, tmp_path
):
    serving = tmp_path / "serving"
    common = ["--serving-dir", str(serving), "--output-dir", str(registry_dir)]
    code, _, err = models_cli(capsys, "promote", str(models[1].id), *common)
    assert code == 2 and f"model {models[1].id} is not blessed" in err and "--force" in err
    code, _, err = models_cli(capsys, "promote", str(models[1].id), "--force", *common)
    assert code == 2 and "--force needs --reason" in err
    code, _, err = models_cli(capsys, "promote", "999999", *common)
    assert code == 2 and "no trained model with id 999999" in err
    assert not serving.exists()


def test_promote_and_rollback_publish_new_versions_recorded_in_mlmd(
    capsys, registry_dir, models, tmp_path
):
    good, worse = models
    serving = tmp_path / "serving"
    common = ["--serving-dir", str(serving), "--output-dir", str(registry_dir)]
    steps = [
        ("promote", str(good.id), "--reason", "first release"),
        ("promote", str(worse.id), "--force", "--reason", "canary of the untrained head"),
        ("rollback",),
        ("rollback",),  # rolling back a rollback returns to the model before it
    ]
    for step in steps:
        code, out, err = models_cli(capsys, *step, *common)
        assert code == 0, err
    versions = serving / MODEL_NAME
    assert sorted(os.listdir(versions)) == ["1", "2", "3", "4"]
    db = store.connect(store.Target(sqlite_path=str(registry_dir / "metadata.sqlite")))
    history = registry.publication_history(db, str(versions))
    assert [(p.version, record.id, p.action) for record, p in history] == [
        (1, good.id, "promote"),
        (2, worse.id, "promote"),
        (3, good.id, "rollback"),
        (4, worse.id, "rollback"),
    ]
    assert {p.who for _, p in history} == {getpass.getuser()}
    assert history[1][1].forced and history[1][1].reason == "canary of the untrained head"
    assert history[2][1].reason == f"roll back from model {worse.id} (version 2)"
    with open(versions / "3" / "saved_model.pb", "rb") as a:
        with open(os.path.join(good.serving_model_dir, "saved_model.pb"), "rb") as b:
            assert a.read() == b.read()
    code, out, _ = models_cli(capsys, "list", "--output-dir", str(registry_dir))
    # The good model's line: each version with the serving directory it went to.
    good_pushed_dir = os.path.dirname(good.publications[0].path)
    assert (
        f"1 (pushed, serving) in {good_pushed_dir}; 1 (promoted), 3 (republished by rollback) "
        f"in {versions}" in out
    )
    # The worse model's version 4 (the second rollback) is the one serving now.
    assert "4 (republished by rollback, serving)" in out


def test_promote_without_to_continues_after_the_pipelines_versions(capsys, registry_dir, models):
    common = ["--output-dir", str(registry_dir)]
    # The good model is what the pipeline pushed as version 1: nothing to do.
    code, out, err = models_cli(capsys, "promote", str(models[0].id), *common)
    assert code == 0, err
    assert f"model {models[0].id} is already serving as version 1: " in out
    assert "--force" in out
    code, _, err = models_cli(capsys, "promote", str(models[0].id), "--force", *common)
    assert code == 2
    assert (
        "--force needs --reason: say why a model that is already serving is published again" in err
    )
    assert sorted(os.listdir(registry_dir / "serving" / MODEL_NAME)) == ["1"]
    code, out, err = models_cli(
        capsys, "promote", str(models[0].id), "--force", "--reason", "re-publish", *common
    )
    assert code == 0, err
    assert sorted(os.listdir(registry_dir / "serving" / MODEL_NAME)) == ["1", "2"]
    assert f"model {models[0].id} is version 2: " in out


def test_a_remote_mlmd_is_read_over_grpc(capsys, worse_run, models):
    server, port = serve_sqlite(str(worse_run.output_dir / "metadata.sqlite"))
    try:
        code, out, err = models_cli(
            capsys, "list", "--json", "--mlmd-host", "localhost", "--mlmd-port", str(port)
        )
    finally:
        server.stop(None)
    assert code == 0, err
    assert [m["id"] for m in json.loads(out)] == [models[0].id, models[1].id]
    code, _, err = models_cli(capsys, "list", "--mlmd-host", "localhost", "--mlmd-port", str(port))
    assert code == 2 and f"cannot reach ML Metadata at localhost:{port}" in err
