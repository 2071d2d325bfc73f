"""What every benchmark reports, and where: one figure = value, same-run baseline, goal.

Each benchmark runs in its own process (peak memory and import times must not
leak between them), so figures are appended to one JSON file (`$BENCH_RESULTS`,
default `outputs/bench/figures.json`) and `benchmarks.performance_doc` writes
docs/PERFORMANCE.md from it at the end of `make bench`. Figures print as they
are recorded, ratio and verdict included: a benchmark run by hand shows its
result without the document.

Timings are only ever printed and recorded, never asserted by a test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psutil

RESULTS_ENV = "BENCH_RESULTS"
DEFAULT_RESULTS = os.path.join("outputs", "bench", "figures.json")


@dataclass(frozen=True)
class Goal:
    """A bound on the figure's value, or on its ratio to the baseline (value / baseline)."""

    bound: float
    at_least: bool = True
    on_ratio: bool = True

    def holds(self, value: float, ratio: float | None) -> bool:
        measured = ratio if self.on_ratio else value
        if measured is None:
            return False
        return measured >= self.bound if self.at_least else measured <= self.bound

    def text(self, unit: str) -> str:
        sign = "≥" if self.at_least else "≤"
        return f"{sign} {self.bound:g}×" if self.on_ratio else f"{sign} {self.bound:g} {unit}"


@dataclass(frozen=True)
class Figure:
    """One row of docs/PERFORMANCE.md."""

    benchmark: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    goal: Goal | None = None
    note: str = ""
    # Repeated, interleaved measurements (`paired`): the lowest and highest ratio of one
    # run to the baseline run next to it. The goal must hold at the worse end.
    ratio_spread: tuple[float, float] | None = None

    @property
    def ratio(self) -> float | None:
        """value / baseline, None without a baseline."""
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def verdict(self) -> str:
        """pass, FAIL, or "-" for a figure without a goal; with a spread, pass only if the
        goal holds across it."""
        if self.goal is None:
            return "-"
        ratios = [self.ratio, *(self.ratio_spread or ())]
        return "pass" if all(self.goal.holds(self.value, r) for r in ratios) else "FAIL"

    @classmethod
    def paired(
        cls, benchmark: str, name: str, values: list[float], baselines: list[float], unit: str,
        **fields,
    ) -> Figure:
        """A figure of runs repeated and interleaved with its baseline's (value i, then
        baseline i, or the other way round): medians of each, the ratio of the medians,
        and the spread of the pairwise ratios."""
        if len(values) != len(baselines) or not values:
            raise ValueError("as many runs of the figure as of its baseline, at least one")
        pairs = [v / b for v, b in zip(values, baselines, strict=True)]
        note = "; ".join(
            filter(None, [f"median of {len(values)} interleaved runs", fields.pop("note", "")])
        )
        return cls(
            benchmark, name, statistics.median(values), unit,
            baseline=statistics.median(baselines), note=note,
            ratio_spread=(min(pairs), max(pairs)), **fields,
        )  # fmt: skip

    def line(self) -> str:
        """The figure as one printed line."""
        text = f"{self.name}: {self.value:.4g} {self.unit}"
        if self.baseline is not None:
            text += f" vs {self.baseline_name or 'baseline'} {self.baseline:.4g}"
        if self.ratio is not None:
            text += f", ratio {self.ratio:.3f}"
        if self.goal is not None:
            text += f" (goal {self.goal.text(self.unit)}: {self.verdict})"
        return f"{text}; {self.note}" if self.note else text

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Figure:
        goal, spread = data.get("goal"), data.get("ratio_spread")
        return cls(
            **{
                **data,
                "goal": Goal(**goal) if goal else None,
                "ratio_spread": tuple(spread) if spread else None,
            }
        )


def results_path() -> str:
    return os.environ.get(RESULTS_ENV, DEFAULT_RESULTS)


def record(figures: list[Figure], path: str | None = None) -> None:
    """Prints the figures and appends them to the results file."""
    path = path or results_path()
    for figure in figures:
        print(f"[{figure.benchmark}] {figure.line()}", flush=True)
    existing = load(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump([fig.to_dict() for fig in existing + figures], f, indent=1)


def load(path: str | None = None) -> list[Figure]:
    """Every figure recorded so far (none if the file does not exist)."""
    path = path or results_path()
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [Figure.from_dict(item) for item in json.load(f)]


@contextlib.contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """`with stopwatch() as t: ...` then t["seconds"] is the block's wall time."""
    timing = {"seconds": 0.0}
    started = time.perf_counter()
    try:
        yield timing
    finally:
        timing["seconds"] = time.perf_counter() - started


class RssSampler:
    """Samples the resident memory of this process and all its children in a thread.

    Beam's multi_processing workers are child processes: their memory counts too.
    `peak_between(start, end)` attributes samples to a component by its times.
    """

    def __init__(self, interval: float = 0.25):
        self._interval = interval
        self._samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self._samples.append((time.time(), total))
            self._stop.wait(self._interval)

    def peak_between(self, start: float, end: float) -> int:
        """Largest sample (bytes) taken between the two Unix times, widened by one interval
        each side so that a component shorter than the interval still gets a sample."""
        start, end = start - self._interval, end + self._interval
        return max((rss for t, rss in self._samples if start <= t <= end), default=0)

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self._samples), default=0)
