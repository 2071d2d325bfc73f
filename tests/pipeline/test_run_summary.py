"""The run summary reads a run's records through the metadata layer, as TFX or KFP wrote them."""

import pytest

from core import artifact_properties as properties
from pipeline.run_summary import summarize_latest_run
from tests.core.metadata.records import KFP, TFX, Recorder, create_store, record_two_runs


@pytest.mark.parametrize("shape, number", [(TFX, int), (KFP, float)], ids=["tfx", "kfp"])
def test_the_newest_run_is_summarized_whatever_recorded_it(tmp_path, shape, number):
    path = str(tmp_path / "metadata.sqlite")
    db = create_store(path)
    Recorder(db, shape, "p", "run-1").execution("Trainer")
    run = Recorder(db, shape, "p", "run-2")
    blessing = run.artifact("ModelBlessing", "/b", **{properties.BLESSED: number(1)})
    run.execution("Evaluator", outputs={"blessing": blessing})
    pushed = run.artifact(
        "PushedModel",
        "/p",
        **{
            properties.PUSHED: number(1),
            properties.PUSHED_VERSION: "3",
            properties.PUSHED_DESTINATION: "/serving/cats/3",
        },
    )
    run.execution("Pusher", outputs={"pushed_model": pushed})
    summary = summarize_latest_run(path, "p", "sample")
    assert summary.run_id == "run-2"
    assert [(c.component, c.status) for c in summary.components] == [
        ("Evaluator", "complete"),
        ("Pusher", "complete"),
    ]
    assert summary.blessed
    assert (summary.pushed_model_dir, summary.pushed_version) == ("/serving/cats/3", 3)


def test_a_store_without_the_pipeline_is_a_lookup_error(tmp_path):
    path = str(tmp_path / "metadata.sqlite")
    Recorder(create_store(path), TFX, "other", "run-1").execution("Trainer")
    with pytest.raises(LookupError, match="no run of pipeline 'p'"):
        summarize_latest_run(path, "p", "sample")


def _push(db, run_id: str, model, version: int) -> None:
    run = Recorder(db, TFX, "p", run_id)
    pushed = run.artifact(
        "PushedModel",
        f"/pushed/{version}",
        **{
            properties.PUSHED: 1,
            properties.PUSHED_VERSION: version,
            properties.PUSHED_DESTINATION: f"/serving/cats/{version}",
        },
    )
    run.execution("Pusher", inputs={"model": model}, outputs={"pushed_model": pushed})


def test_a_push_says_which_version_it_replaces_and_which_model_it_is(tmp_path):
    """A rerun that publishes an older model names the version serving before it and both
    models, so "pushed: version 3" never hides that it is model 1 again."""
    path = str(tmp_path / "metadata.sqlite")
    db = create_store(path)
    good, worse = record_two_runs(db, TFX, int, str(tmp_path))
    assert summarize_latest_run(path, "p", "sample").replaced == ""  # nothing pushed
    _push(db, "run-3", worse, 2)
    summary = summarize_latest_run(path, "p", "sample")
    assert summary.replaced == (
        # good's evaluation is recorded but its files are not here; worse was never evaluated
        f"replaces version 1 (model {good.id}, accuracy unknown); this is model {worse.id}, "
        "not evaluated"
    )
    assert f"    {summary.replaced}" in summary.format().splitlines()
    _push(db, "run-4", good, 3)
    assert summarize_latest_run(path, "p", "sample").replaced == (
        f"replaces version 2 (model {worse.id}, not evaluated); this is model {good.id} again "
        "(it was version 1), accuracy unknown"
    )
