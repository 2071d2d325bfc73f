"""docs/PERFORMANCE.md's writer: one row per figure, ratios and goal verdicts computed right.

No benchmark runs here (they are `make bench`, never `make test`): figures are made up.
"""

import re

import pytest

from benchmarks import figures as figures_lib
from benchmarks import performance_doc
from benchmarks.figures import Figure, Goal

RATE = Figure(
    "data_path", "Transform images/s", 100.0, "images/s", 400.0, "plain tf.data", Goal(0.5)
)
MEMORY = Figure("data_path", "Transform peak RSS", 7.5, "GB", goal=Goal(6.0, False, False))
PLAIN = Figure("input_pipeline", "transformed records -> batches, one core", 2000.0, "images/s")


def rows(text: str) -> list[list[str]]:
    """The cells of the figures table's data rows."""
    lines = [
        line
        for line in text.splitlines()
        if line.startswith("| data_path") or line.startswith("| input_pipeline")
    ]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_each_figure_is_one_row_with_ratio_goal_and_verdict():
    text = performance_doc.render([RATE, MEMORY, PLAIN], "Test CPU, 2 cores, 24 GiB RAM")

    rate, memory, plain = rows(performance_doc.table([RATE, MEMORY, PLAIN]))
    assert rate[:2] == ["data_path", "Transform images/s"]
    assert rate[4] == "0.250×" and rate[5] == "≥ 0.5×" and rate[6] == "FAIL"
    assert "400 images/s (plain tf.data)" in rate[3]
    assert memory[4] == "" and memory[5] == "≤ 6 GB" and memory[6] == "FAIL"
    assert plain[5] == "" and plain[6] == "-"
    assert "Machine: Test CPU, 2 cores, 24 GiB RAM." in text
    header = next(line for line in text.splitlines() if line.startswith("| benchmark |"))
    assert header.count("|") == len(rate) + 1  # every row fills every column


def test_goals_pass_on_their_side_of_the_bound():
    assert Figure("b", "ratio met", 300.0, "x", 400.0, goal=Goal(0.5)).verdict == "pass"
    assert Figure("b", "under a cap", 5.9, "GB", goal=Goal(6.0, False, False)).verdict == "pass"
    assert Figure("b", "no baseline", 1.0, "x", goal=Goal(0.5)).verdict == "FAIL"


def test_gpu_analysis_divides_the_gpu_rates_by_the_measured_per_core_rate():
    text = performance_doc.gpu_analysis(performance_doc.InputRates(1000.0, None, None))

    # 1,251 images/s at 1,000 per core: 2 cores; 24,472: 25 cores; no cached rate: n/a.
    assert "| fine-tune (training step), float32, batch 32 | 1,251 | 2 | n/a | n/a |" in text
    assert "| head (frozen base), bfloat16, batch 256 | 24,472 | 25 | n/a | n/a |" in text


def test_recorded_figures_accumulate_in_one_results_file(tmp_path):
    path = str(tmp_path / "figures.json")
    figures_lib.record([RATE], path)
    figures_lib.record([MEMORY, PLAIN], path)

    assert figures_lib.load(path) == [RATE, MEMORY, PLAIN]


def test_notebook_breakdown_splits_the_difference_by_component():
    """The sample run's seconds: imports, data components, Trainer inside and out, TFMA, rest."""
    bench = "notebook_overhead"
    figures = [
        Figure(bench, "whole sample run, wall seconds", 100.0, "s", 80.0, "notebook"),
        Figure(
            bench, "whole sample run, wall seconds (the Trainer's fixes)", 100.0, "s", 50.0, "nb"
        ),
        Figure(bench, "imports (TF, TFX, Beam) before anything runs", 9.0, "s", 3.0, "nb"),
        Figure(bench, "component TfdsExampleGen", 3.0, "s"),
        Figure(bench, "component Transform", 4.0, "s"),
        Figure(bench, "component Trainer", 60.0, "s", 70.0, "notebook fit"),
        Figure(bench, "component Evaluator", 6.0, "s", 1.0, "evaluate"),
        Figure(bench, "Trainer head: training seconds (first epoch traces)", 20.0, "s"),
        Figure(bench, "Trainer fine_tune: training seconds (first epoch traces)", 25.0, "s"),
    ]
    text = performance_doc.notebook_breakdown(figures)
    assert "(1.25×, the goal's ratio)" in text and "(2.00×, the orchestration's own cost)" in text
    assert "data components (ExampleGen to Transform, four Beam pipelines): 7.0 s" in text
    assert "training passes took 45.0 s, the rest (15.0 s)" in text
    assert "the rest (18.0 s)" in text  # 100 - 9 imports - 73 in components
    assert "Not measured" in performance_doc.notebook_breakdown(figures[3:])


def test_every_flag_the_document_recommends_is_accepted_by_pipeline_run():
    """The doc is generated, so its advice is checked where it is written: each backquoted
    `--flag value` must parse with `python -m pipeline run`'s own parser (choices, types)."""
    from pipeline.cli import build_parser

    text = performance_doc.render([RATE, MEMORY, PLAIN], "Test CPU, 2 cores, 24 GiB RAM")
    advised = re.findall(r"`(--[a-z-]+(?: [^`-][^`]*)?)`", text)
    assert "--mixed-precision bfloat16" in advised  # the advice this test exists for
    for flag in advised:
        try:
            build_parser().parse_args(["run", *flag.split()])
        except SystemExit:
            pytest.fail(f"docs/PERFORMANCE.md recommends `{flag}`, which `pipeline run` rejects")


def test_a_repeated_figure_passes_only_if_its_goal_holds_across_the_spread():
    """Medians of interleaved runs; one pair below the goal fails the figure."""
    steady = Figure.paired(
        "data_path", "rate", [60, 62, 61], [100, 110, 104], "images/s", goal=Goal(0.5)
    )
    assert (steady.value, steady.baseline) == (61, 104)
    assert steady.ratio_spread == (62 / 110, 60 / 100)
    assert steady.verdict == "pass"
    noisy = Figure.paired(
        "data_path", "rate", [60, 45, 61], [100, 100, 100], "images/s", goal=Goal(0.5)
    )
    assert noisy.ratio == 0.6 and noisy.ratio_spread == (0.45, 0.61)
    assert noisy.verdict == "FAIL"
    row = rows(performance_doc.table([noisy]))[0]
    assert row[4] == "0.600× (0.450–0.610)" and row[6] == "FAIL"
    assert figures_lib.Figure.from_dict(noisy.to_dict()) == noisy
