"""The RunReport component's executor (what runs on Kubeflow) on a real run's artifacts."""

from __future__ import annotations

import json

import pytest
from tfx.types import standard_artifacts

from core import artifact_properties as properties
from core.config import PipelineConfig
from pipeline.report import component

pytestmark = pytest.mark.e2e


def _artifact(artifact_class, root, folder: str):
    (uri,) = sorted((root / "pipeline_root").glob(f"{folder}/*"))
    artifact = artifact_class()
    artifact.uri = str(uri)
    return artifact


def test_the_component_writes_the_same_report_from_its_input_artifacts(e2e_run, tmp_path):
    summary, root = e2e_run.summary, e2e_run.output_dir
    examples = _artifact(standard_artifacts.Examples, root, "TfdsExampleGen/examples")
    # What TfdsExampleGen records on its artifact (MLMD holds these on the cluster).
    source = summary["data_source"]
    for name, value in (
        (properties.TFDS_NAME, source["name"]),
        (properties.TFDS_VERSION, source["version"]),
        (properties.TFDS_DATA_DIR, source["data_dir"]),
        (properties.TFDS_SPLITS, json.dumps(source["splits"])),
        (properties.SPLIT_COUNTS, json.dumps(summary["split_counts"])),
        (properties.SKIPPED_IMAGES, json.dumps(summary["skipped_images"])),
        (properties.CONVERTED_IMAGES, json.dumps(summary["converted_images"])),
    ):
        examples.set_string_custom_property(name, value)
    blessing = _artifact(standard_artifacts.ModelBlessing, root, "Evaluator/blessing")
    blessing.set_int_custom_property("blessed", 1)
    report = component.HtmlReport()
    report.uri = str(tmp_path / "report" / "value")
    (tmp_path / "report").mkdir()
    config = PipelineConfig.for_profile("sample", data_dir=e2e_run.data_dir)

    component.Executor().Do(
        {
            "examples": [examples],
            "model": [_artifact(standard_artifacts.Model, root, "Trainer/model")],
            "evaluation": [
                _artifact(standard_artifacts.ModelEvaluation, root, "Evaluator/evaluation")
            ],
            "blessing": [blessing],
        },
        {"report": [report]},
        {"config": json.dumps(component._recipe(config))},  # noqa: SLF001 - as RunReport passes it
    )

    html = (tmp_path / "report" / "value").read_text(encoding="utf-8")
    local = open(summary["report"], encoding="utf-8").read()
    for section in ("The run", "Training", "Evaluation on the test split", "Blessing"):
        assert f">{section}</h2>" in html and f">{section}</h2>" in local
    assert "blessed" in html and f"test: {summary['split_counts']['test']}" in html
    assert ">Misclassified test images" in html
    assert "Components</h2>" not in html  # no runner timings inside a cluster task
