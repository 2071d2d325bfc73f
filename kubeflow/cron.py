"""Validates the 6-field cron expressions Kubeflow Pipelines schedules recurring runs with.

KFP hands the expression to robfig/cron with a seconds field, so the classic 5-field
crontab line is rejected by the cluster only when the schedule is created. Checking it
here turns that into an error before anything is compiled or sent.
"""

from __future__ import annotations

import re

EXAMPLE = "0 0 3 * * *"  # every day at 03:00:00
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, lowest, highest, names for the values from `lowest`, whether "?" is allowed)
_FIELDS = (
    ("seconds", 0, 59, (), False),
    ("minutes", 0, 59, (), False),
    ("hours", 0, 23, (), False),
    ("day of month", 1, 31, (), True),
    ("month", 1, 12, _MONTHS, False),
    ("day of week", 0, 6, _WEEKDAYS, True),
)
_RANGE = re.compile(r"^(?P<start>\w+)(-(?P<end>\w+))?$")


def cron_problem(expression: str) -> str | None:
    """Returns what is wrong with `expression` (with a valid example), or None if KFP accepts it."""
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        hint = " (a 5-field crontab line needs a leading seconds field)" if len(fields) == 5 else ""
        return (
            f"KFP cron has 6 fields (seconds minutes hours day-of-month month day-of-week), "
            f"got {len(fields)}{hint}; e.g. '{EXAMPLE}' runs daily at 03:00"
        )
    for text, (name, low, high, names, question_allowed) in zip(fields, _FIELDS, strict=True):
        if not all(
            _part_is_valid(part, low, high, names, question_allowed) for part in text.split(",")
        ):
            return (
                f"the {name} field {text!r} is not valid (values {low}-{high}, '*', "
                f"ranges a-b, steps */n, lists a,b); e.g. '{EXAMPLE}' runs daily at 03:00"
            )
    return None


def _part_is_valid(part: str, low: int, high: int, names: tuple, question_allowed: bool) -> bool:
    if part == "?":
        return question_allowed
    span, slash, step = part.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        return False
    if span == "*":
        return True
    match = _RANGE.match(span)
    if not match:
        return False
    values = [_value(v, low, names) for v in (match["start"], match["end"]) if v is not None]
    if any(v is None or not low <= v <= high for v in values):
        return False
    return len(values) == 1 or values[0] <= values[1]


def _value(text: str, low: int, names: tuple) -> int | None:
    if text.isdigit():
        return int(text)
    if text.upper() in names:
        return low + names.index(text.upper())
    return None
