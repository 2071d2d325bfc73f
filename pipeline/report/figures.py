"""The report's figures, drawn with matplotlib into PNG bytes.

Figures are built with `matplotlib.figure.Figure` and the Agg canvas directly,
not pyplot: no global state, no display needed, safe inside a component's
process. Each function takes plain data from `content` and returns one PNG.
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_DPI = 110
_STATUS_COLOURS = {"complete": "#4c9a2a", "cached": "#8fa7c7", "failed": "#c0392b"}


def training_curves(history: dict[str, dict[str, list[float]]]) -> bytes:
    """Loss and accuracy of both stages on one epoch axis, the stage boundary marked."""
    figure = Figure(figsize=(10, 3.6), dpi=_DPI)
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    accuracy_name = _accuracy_metric(history)
    for axes, metric, title in (
        (loss_axes, "loss", "loss"),
        (accuracy_axes, accuracy_name, "accuracy"),
    ):
        for prefix, style, split in (("", "-", "train"), ("val_", "--", "eval")):
            epochs, values = _along_stages(history, prefix + metric)
            if epochs:
                axes.plot(epochs, values, style, marker="o", markersize=3, label=split)
        axes.set_title(title)
        axes.set_xlabel("epoch (both stages)")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
    boundary = _stage_boundary(history)
    if boundary is not None:
        for axes in (loss_axes, accuracy_axes):
            axes.axvline(boundary, color="grey", linestyle=":")
            axes.text(
                boundary,
                1.0,
                " fine-tune →",
                transform=axes.get_xaxis_transform(),
                va="top",
                fontsize=8,
                color="grey",
            )
    loss_axes.legend()
    return _png(figure)


def roc_and_precision_recall(curve: list[dict[str, float]]) -> bytes:
    """ROC and precision-recall curves from TFMA's confusion matrices over thresholds."""
    figure = Figure(figsize=(10, 4), dpi=_DPI)
    roc, pr = figure.subplots(1, 2)
    roc.plot([p["false_positive_rate"] for p in curve], [p["recall"] for p in curve])
    roc.plot([0, 1], [0, 1], ":", color="grey")
    roc.set(
        title="ROC",
        xlabel="false positive rate",
        ylabel="true positive rate (recall)",
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    # At thresholds above every prediction TFMA reports precision 0 for 0 predictions: drop them.
    points = [p for p in curve if p["recall"] > 0]
    pr.plot([p["recall"] for p in points], [p["precision"] for p in points])
    pr.set(
        title="precision-recall", xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02)
    )
    for axes in (roc, pr):
        axes.set_aspect("equal")
        axes.grid(alpha=0.3)
    return _png(figure)


def confusion_matrix(counts: list[list[int]], class_names: list[str]) -> bytes:
    """The N x N confusion matrix (rows: true class, columns: the class the model chose)."""
    size = len(class_names)
    side = max(3.6, 1.1 * size + 1.5)
    figure = Figure(figsize=(side + 0.4, side), dpi=_DPI)
    axes = figure.subplots()
    axes.imshow(counts, cmap="Blues")
    largest = max((max(row) for row in counts), default=0) or 1
    for row in range(size):
        for column in range(size):
            value = counts[row][column]
            colour = "white" if value > largest / 2 else "black"
            axes.text(column, row, f"{value:g}", ha="center", va="center", color=colour)
    axes.set_xticks(range(size), [f"said {c}" for c in class_names], rotation=30, ha="right")
    axes.set_yticks(range(size), [f"true {c}" for c in class_names])
    axes.set_title("test images")
    figure.tight_layout()
    return _png(figure)


def calibration(buckets: list[dict[str, float]], class_names: list[str]) -> bytes:
    """Mean predicted probability of the second class against its observed fraction, per
    probability bucket (TFMA's calibration plot: two classes)."""
    positive = class_names[1] if len(class_names) == 2 else "the positive class"
    figure = Figure(figsize=(4.6, 4), dpi=_DPI)
    axes = figure.subplots()
    predicted = [b["prediction_sum"] / b["examples"] for b in buckets]
    observed = [b["positives"] / b["examples"] for b in buckets]
    sizes = [20 + 180 * b["examples"] / max(c["examples"] for c in buckets) for b in buckets]
    axes.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    axes.plot(predicted, observed, "-", color="#1f77b4")
    axes.scatter(predicted, observed, s=sizes, color="#1f77b4", label="buckets (size: examples)")
    axes.set(
        xlabel=f"mean predicted P({positive})",
        ylabel=f"fraction that are {positive}",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title="calibration",
    )
    axes.set_aspect("equal")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    return _png(figure)


def timeline(components: list[dict[str, Any]]) -> bytes:
    """The components one after the other, as LocalDagRunner ran them, bars as long as each took.

    The summary records each component's duration in execution order;
    LocalDagRunner runs one component at a time, so starts are cumulative.
    """
    figure = Figure(figsize=(10, 0.45 * len(components) + 1.2), dpi=_DPI)
    axes = figure.subplots()
    start = 0.0
    for row, component in enumerate(components):
        seconds = component["seconds"]
        colour = _STATUS_COLOURS.get(component["status"], "#999999")
        axes.barh(row, max(seconds, 0.1), left=start, color=colour)
        axes.text(
            start + max(seconds, 0.1),
            row,
            f" {seconds:.1f} s ({component['status']})",
            va="center",
            fontsize=8,
        )
        start += seconds
    axes.set_yticks(range(len(components)), [c["component"] for c in components])
    axes.invert_yaxis()
    axes.set_xlabel("seconds since the first component started")
    axes.set_xlim(0, start * 1.18 or 1)
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def _accuracy_metric(history: dict[str, dict[str, list[float]]]) -> str:
    names = {name for stage in history.values() for name in stage}
    return next(
        (n for n in sorted(names) if "accuracy" in n and not n.startswith("val_")), "accuracy"
    )


def _along_stages(history: dict[str, dict[str, list[float]]], metric: str):
    epochs, values = [], []
    for stage in history.values():
        if metric in stage:
            epochs += stage["epoch"]
            values += stage[metric]
    return epochs, values


def _stage_boundary(history: dict[str, dict[str, list[float]]]) -> float | None:
    """Halfway between the last head epoch and the first fine-tune epoch."""
    if "head" not in history or not history.get("fine_tune", {}).get("epoch"):
        return None
    return (history["head"]["epoch"][-1] + history["fine_tune"]["epoch"][0]) / 2


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    out = io.BytesIO()
    FigureCanvasAgg(figure).print_png(out)
    return out.getvalue()
