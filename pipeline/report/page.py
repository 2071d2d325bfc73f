"""The report as one self-contained HTML page: every figure and image embedded as base64.

No scripts, no fonts, no stylesheets from elsewhere: the page opens from disk,
from an email attachment or from Kubeflow's artifact viewer with no network.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from pipeline.report import figures
from pipeline.report.content import ReportContent

# The metrics shown per model and per class, in this order, with their labels.
_OVERALL_METRICS = {
    "binary_accuracy": "accuracy",
    "accuracy": "accuracy",  # more than two classes
    "auc": "ROC AUC",
    "auc_pr": "PR AUC",
    "precision": "precision",
    "recall": "recall",
    "calibration": "calibration (mean prediction / mean label)",
    "example_count": "test examples",
}
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.verdict { font-size: 1.3em; padding: 0.4em 0.8em; display: inline-block; border-radius: 4px; }
.blessed { background: #e3f4dc; color: #2d6a16; }
.not-blessed { background: #fbe3e1; color: #9b2318; }
.pass { color: #2d6a16; } .fail { color: #9b2318; font-weight: bold; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 0.8em; }
.grid figure { margin: 0; font-size: 0.85em; }
.grid img { display: block; border: 3px solid #ccc; width: 100%; height: 150px;
  object-fit: contain; background: #f4f4f4; box-sizing: border-box; }
.grid .wrong img { border-color: #c0392b; }
img.plot { max-width: 100%; }
.muted { color: #777; }
"""


def render(content: ReportContent) -> str:
    """The whole page."""
    summary = content.summary
    sections = [
        _facts(content),
        _training(content),
        _evaluation(content),
        _most_wrong(content),
        _blessing(content),
        _serving_check(summary.get("serving_check") or {}),
        _timeline(summary.get("components") or []),
    ]
    title = f"Run {content.run_id}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class='muted'>profile <b>{_e(content.profile)}</b> · "
        f"{_verdict(summary)}</p>" + "".join(sections) + "</body></html>\n"
    )


def _facts(content: ReportContent) -> str:
    summary = content.summary
    rows = [("profile", _e(content.profile))]
    changes = content.config_changes
    rows.append(
        (
            "changed from the profile",
            ", ".join(f"{flag} {_e(a)} (profile: {_e(b)})" for flag, (b, a) in changes.items())
            or "nothing",
        )
    )
    source = summary.get("data_source") or {}
    if source:
        splits = ", ".join(f"{k} = {v}" for k, v in source.get("splits", {}).items())
        rows.append(
            (
                "data",
                _e(
                    f"TFDS {source.get('name')} {source.get('version')} in "
                    f"{source.get('data_dir')}; splits {splits}"
                ),
            )
        )
    if content.class_names:
        rows.append(("classes", _e(", ".join(content.class_names))))
    for key, label in (
        ("split_counts", "examples per split"),
        ("skipped_images", "images skipped"),
        ("converted_images", "images converted to RGB PNG"),
        ("anomalies", "anomalies (ExampleValidator)"),
    ):
        if key in summary:
            rows.append((label, _per_split(summary[key])))
    for key, label in (("pushed_model_dir", "pushed to"), ("log_file", "full log")):
        if summary.get(key):
            rows.append((label, _e(summary[key])))
    return "<h2>The run</h2>" + _table(rows)


def _training(content: ReportContent) -> str:
    if not content.history:
        return "<h2>Training</h2><p class='muted'>no training history (the Trainer did not run)</p>"
    stages = ", ".join(
        f"{name}: epochs {stage['epoch'][0]}–{stage['epoch'][-1]}"
        for name, stage in content.history.items()
        if stage.get("epoch")
    )
    return (
        "<h2>Training</h2>"
        f"<p>Both stages on one epoch axis ({_e(stages)}); the dotted line is where the "
        "base is unfrozen and fine-tuning starts.</p>"
        + _img(figures.training_curves(content.history), "loss and accuracy per epoch")
    )


def _evaluation(content: ReportContent) -> str:
    if not content.metrics_by_slice:
        return "<h2>Evaluation</h2><p class='muted'>no evaluation (the Evaluator did not run)</p>"
    names = content.class_names
    parts = ["<h2>Evaluation on the test split</h2>"]
    if content.curve:
        parts.append(_img(figures.roc_and_precision_recall(content.curve), "ROC and PR curves"))
    parts.append("<div style='display:flex;gap:1em;flex-wrap:wrap'>")
    if content.scored and names:
        parts.append(_img(figures.confusion_matrix(content.confusion(), names), "confusion matrix"))
    if content.calibration:
        parts.append(_img(figures.calibration(content.calibration, names), "calibration"))
    parts.append("</div>")
    if content.scored and names:
        parts.append("<h3>Per class</h3>" + _grid_table(*_per_class(content)))
    return "".join(parts)


def _per_class(content: ReportContent) -> tuple[list[str], list[list[str]]]:
    """Per class, over the scored test images: how many, recall, precision (and for two
    classes the mean probability of the second, as TFMA's calibration reads it)."""
    names = content.class_names
    positive = names[1] if len(names) == 2 else None
    header = ["class", "test images", "recall", "precision"]
    if positive:
        header.append(f"mean P({positive})")
    matrix = content.confusion()
    rows = []
    for index, name in enumerate(names):
        total = sum(matrix[index])
        predicted = sum(row[index] for row in matrix)
        row = [
            f"{name} (label {index})",
            str(total),
            _number(matrix[index][index] / total if total else None),
            _number(matrix[index][index] / predicted if predicted else None),
        ]
        if positive:
            probabilities = [i.positive_probability for i in content.scored if i.label == index]
            row.append(_number(sum(probabilities) / len(probabilities) if probabilities else None))
        rows.append(row)
    return header, rows


def _most_wrong(content: ReportContent) -> str:
    if not content.scored:
        return ""
    names = content.class_names
    wrong = content.most_wrong
    if not wrong:
        return (
            "<h2>Misclassified test images</h2>"
            f"<p>None: the model classified all {len(content.scored)} test images right.</p>"
        )
    cells = []
    for image in wrong:
        said = (
            f"P({names[1]}) = {image.positive_probability:.3f}"
            if image.positive_probability is not None and len(names) == 2
            else f"{image.confidence:.3f}"
        )
        cells.append(
            "<figure class='wrong'>"
            f"<img src='data:image/jpeg;base64,{_b64(image.jpeg)}' alt='{_e(image.name)}'>"
            f"<figcaption>true <b>{_e(_class(names, image.label))}</b>, said "
            f"<b>{_e(_class(names, image.predicted))}</b> ({said})<br>"
            f"<span class='muted'>{_e(image.name)}</span></figcaption></figure>"
        )
    total_wrong = sum(1 for i in content.scored if i.wrong)
    return (
        f"<h2>Misclassified test images: the {len(cells)} most confident mistakes</h2>"
        f"<p>{total_wrong} of {len(content.scored)} test images are misclassified; these are "
        "the ones the model was surest of, the surest first.</p>"
        f"<div class='grid'>{''.join(cells)}</div>"
    )


def _class(names: list[str], index: int) -> str:
    return names[index] if index < len(names) else f"class {index}"


def _blessing(content: ReportContent) -> str:
    summary = content.summary
    failed = summary.get("not_blessed_because") or []
    skipped = summary.get("baseline_skipped") or ""
    rows = [
        [_e(t), _threshold_outcome(t, failed, content.baseline, skipped)]
        for t in content.thresholds
    ]
    parts = [
        "<h2>Blessing</h2>",
        f"<p>{_verdict(summary)}</p>",
        _grid_table(["threshold", "this model"], rows, escape=False),
    ]
    parts += [f"<p class='fail'>{_e(reason)}</p>" for reason in failed]
    overall = content.metrics_by_slice.get("overall", {})
    baseline = content.baseline_metrics
    header = ["metric", "this model"]
    header.append(
        f"serving before this run ({_e(content.baseline)})"
        if content.baseline
        else "serving before this run"
    )
    rows = [
        [
            label,
            _number(overall.get(key)),
            _number(baseline.get(key)) if baseline else "none (first blessed model)",
        ]
        for key, label in _OVERALL_METRICS.items()
        if key in overall
    ]
    parts.append(_grid_table(header, rows, escape=False))
    return "".join(parts)


def _timeline(components: list[dict[str, Any]]) -> str:
    if not components:
        return ""
    return "<h2>Components</h2>" + _img(figures.timeline(components), "component timeline")


def _serving_check(check: dict[str, Any]) -> str:
    """How the model answered as a model server loaded it (components/serving_check)."""
    if not check:
        return ""
    if check.get("skipped"):
        return f"<h2>Serving check</h2><p class='muted'>not run: {_e(check['skipped'])}</p>"
    rows = [
        [_e(name), "<span class='pass'>ok</span>" if verdict == "ok" else _fail(verdict)]
        for name, verdict in check["signatures"].items()
    ]
    facts = (
        f"Loaded by <code>tf.saved_model.load</code> in a fresh process with TensorFlow alone "
        f"(in {check['loaded_seconds']:.1f} s); each signature answered real test images as "
        f"the Evaluator scored them, and a batch of hostile images (a decompression bomb, a "
        f"truncated file, zero bytes, text) was refused image by image, the server's peak "
        f"memory +{check['hostile_extra_rss_mb']} MB. {check['warmup_requests']} warm-up "
        f"requests ({check['warmup_bytes'] / 1024:.0f} KB) ship with the model."
    )
    parts = ["<h2>Serving check</h2>", f"<p>{facts}</p>"]
    parts.append(_grid_table(["signature", "answer"], rows, escape=False))
    parts += [f"<p class='fail'>{_e(failure)}</p>" for failure in check["failures"]]
    return "".join(parts)


def _fail(text: str) -> str:
    return f"<span class='fail'>{_e(text)}</span>"


def _verdict(summary: dict[str, Any]) -> str:
    check = summary.get("serving_check") or {}
    if summary.get("blessed") and check and not check.get("passed"):
        return (
            "<span class='verdict not-blessed'>blessed, failed the serving check: not pushed</span>"
        )
    if summary.get("blessed"):
        pushed = summary.get("pushed_version")
        where = f", pushed as version {pushed}" if pushed else ""
        return f"<span class='verdict blessed'>blessed{where}</span>"
    return "<span class='verdict not-blessed'>not blessed, nothing pushed</span>"


def _threshold_outcome(
    threshold: str, failures: list[str], baseline: str | None, skipped: str = ""
) -> str:
    if _failed(threshold, failures):
        return "<span class='fail'>failed</span>"
    if " change " in threshold and skipped:
        return (
            f"<span class='muted'>not applied: no baseline for this model yet, {_e(skipped)}</span>"
        )
    if " change " in threshold and not baseline:
        return "<span class='muted'>not applied: no blessed model to compare with yet</span>"
    return "<span class='pass'>held</span>"


def _failed(threshold: str, failures: list[str]) -> bool:
    """Whether a threshold rule ('x >= v' or 'x change >= d ...') is among the failures."""
    is_change = " change " in threshold
    name = threshold.split()[0]
    return any(f.startswith(name) and (("changed by" in f) == is_change) for f in failures)


def _per_split(values: dict[str, Any]) -> str:
    def one(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k} = {v}" for k, v in value.items()) or "none"
        if isinstance(value, list):
            return "; ".join(map(str, value)) or "none"
        return str(value)

    return "<br>".join(f"{_e(split)}: {_e(one(v))}" for split, v in values.items()) or "none"


def _table(rows: list[tuple[str, str]]) -> str:
    """Label and HTML value per row (values are escaped by the caller)."""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _grid_table(header: list[str], rows: list[list[str]], escape: bool = True) -> str:
    cell = _e if escape else str
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(png: bytes, alt: str) -> str:
    return f"<img class='plot' src='data:image/png;base64,{_b64(png)}' alt='{_e(alt)}'>"


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
