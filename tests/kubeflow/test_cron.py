"""KFP's 6-field cron, checked before a schedule is compiled or sent."""

import pytest

from kubeflow.cron import EXAMPLE, cron_problem


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 3 * * *",
        "0 */15 * * * *",
        "30 0 9 ? * MON-FRI",
        "0 0 0 1,15 * ?",
        "0 0 6 * JAN-MAR,OCT SUN",
        "0 0 0-23/2 1-31/2 * *",
    ],
)
def test_kfp_expressions_are_accepted(expression):
    assert cron_problem(expression) is None


def test_a_five_field_crontab_line_is_rejected_with_the_missing_seconds_explained():
    problem = cron_problem("0 3 * * *")
    assert "6 fields" in problem and "got 5" in problem and "leading seconds field" in problem
    assert f"'{EXAMPLE}'" in problem


@pytest.mark.parametrize(
    ("expression", "field"),
    [
        ("60 0 3 * * *", "seconds"),
        ("0 0 24 * * *", "hours"),
        ("0 0 3 0 * *", "day of month"),
        ("0 0 3 * 13 *", "month"),
        ("0 0 3 * * 7", "day of week"),
        ("0 0 5-3 * * *", "hours"),
        ("0 */0 * * * *", "minutes"),
        ("0 ? * * * *", "minutes"),
        ("0 0 3 * FOO *", "month"),
        ("a b c d e f", "seconds"),
    ],
)
def test_malformed_fields_are_named_with_a_valid_example(expression, field):
    problem = cron_problem(expression)
    assert problem.startswith(f"the {field} field")
    assert f"'{EXAMPLE}'" in problem


@pytest.mark.parametrize("expression", ["", "@daily", "0 0 3 * * * 2026"])
def test_wrong_field_counts_are_rejected(expression):
    assert "KFP cron has 6 fields" in cron_problem(expression)
