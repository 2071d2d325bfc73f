"""The serving check's verdict: what the fresh TensorFlow-only process answered, against the
Evaluator's scores of the same images."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from components.serving_check.requests import SCORING_SIGNATURES, TestImage
from core import features
from core.image_guard import REFUSED_CLASS_ID

# The largest difference allowed between a served score and the Evaluator's.
TOLERANCE = 1e-5
# The float outputs compared (two classes: probability of the second; more: each class's).
SCORES = ("probability", "class_probability", "probabilities")
# Decoding one hostile image may raise the server's peak memory by at most this much:
# the decompression bomb, decoded, would take 400 MB (1.2 GB as RGB).
HOSTILE_MEMORY_MB = 150


@dataclass
class ServingCheckResult:
    """Passed or not, why, and what was measured. `skipped` when there was nothing to check."""

    passed: bool = False
    failures: list[str] = field(default_factory=list)
    signatures: dict[str, str] = field(default_factory=dict)  # name -> "ok" or its failure
    warmup_requests: int = 0
    warmup_bytes: int = 0
    loaded_seconds: float = 0.0
    peak_rss_mb: int = 0
    hostile_extra_rss_mb: int = 0
    seconds: float = 0.0
    skipped: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ServingCheckResult:
        return cls(**json.loads(text))

    def describe(self) -> str:
        """One line for the run summary."""
        if self.skipped:
            return f"skipped: {self.skipped}"
        if not self.passed:
            return "failed: " + "; ".join(self.failures)
        return (
            f"passed: {', '.join(self.signatures)} answered as the Evaluator scored "
            f"(within {TOLERANCE:g}) in a fresh TensorFlow-only process (loaded in "
            f"{self.loaded_seconds:.1f} s); {self.warmup_requests} warmup requests "
            f"({self.warmup_bytes / 1024:.0f} KB); hostile images refused one by one "
            f"(peak memory +{self.hostile_extra_rss_mb} MB)"
        )


def judge(
    probe: dict[str, Any],
    reference: dict[str, np.ndarray],
    images: list[TestImage],
    warmup_sizes: list[int],
    hostile: list[str],
) -> ServingCheckResult:
    """The verdict on what the probe answered.

    Args:
        probe: the probe's result (components/serving_check/probe.py).
        reference: the Evaluator's outputs for `images`, by output name.
        images: the test images, in request order.
        warmup_sizes: per warmup request, how many of `images` it held.
        hostile: descriptions of the hostile batch, the first one a good image.
    """
    result = ServingCheckResult(seconds=probe.get("seconds", 0.0))
    if "load_error" in probe:
        result.failures.append(
            f"the model does not load in TensorFlow alone: {probe['load_error']}"
        )
        return result
    if probe.get("foreign_modules"):
        result.failures.append(
            "loading and calling the model imported "
            f"{', '.join(probe['foreign_modules'])}: a model server has only TensorFlow"
        )
    result.loaded_seconds = probe["loaded_seconds"]
    warmup, hostile_file = probe["files"]
    for reply, size in zip(warmup["replies"], warmup_sizes, strict=True):
        problem = _problem_with_reply(reply, reference, images[:size])
        _record(result, reply["signature"], problem)
    for reply in hostile_file["replies"]:
        problem = _problem_with_hostile(reply, reference, images, hostile)
        _record(result, reply["signature"], problem)
    result.peak_rss_mb = hostile_file["peak_rss_mb"]
    result.hostile_extra_rss_mb = max(0, hostile_file["peak_rss_mb"] - warmup["peak_rss_mb"])
    if result.hostile_extra_rss_mb > HOSTILE_MEMORY_MB:
        result.failures.append(
            f"the hostile images raised the server's peak memory by "
            f"{result.hostile_extra_rss_mb} MB (at most {HOSTILE_MEMORY_MB} MB): an image was "
            "decoded that should have been refused"
        )
    result.passed = not result.failures
    return result


def _record(result: ServingCheckResult, signature: str, problem: str) -> None:
    if problem:
        result.failures.append(f"{signature}: {problem}")
        result.signatures[signature] = problem
    else:
        result.signatures.setdefault(signature, "ok")


def _problem_with_reply(
    reply: dict[str, Any], reference: dict[str, np.ndarray], images: list[TestImage]
) -> str:
    if "error" in reply:
        return (
            f"failed a request of {len(images)} test image(s) ({images[0].name}, ...): "
            + reply["error"]
        )
    outputs = reply["outputs"]
    if reply["signature"] not in SCORING_SIGNATURES:
        pixels = outputs.get(features.PIXELS_KEY)
        if pixels is None or len(pixels) != len(images):
            return f"answered {sorted(outputs)} for {len(images)} image(s), not their pixels"
        return ""
    return _differences(outputs, reference, images)


def _problem_with_hostile(
    reply: dict[str, Any],
    reference: dict[str, np.ndarray],
    images: list[TestImage],
    hostile: list[str],
) -> str:
    if "error" in reply:
        return f"a batch of a good image and hostile ones failed as a whole: {reply['error']}"
    outputs = reply["outputs"]
    errors = outputs.get("error")
    if errors is None:
        return "answers no per-image 'error': a hostile image would be decoded or fail the batch"
    if errors[0]:
        return f"refused {hostile[0]}: {errors[0]}"
    accepted = [name for name, error in zip(hostile[1:], errors[1:], strict=True) if not error]
    if accepted:
        return f"accepted {', '.join(accepted)}"
    flagged = [int(i) for i in outputs.get("class_id", [])[1:]]
    if any(class_id != REFUSED_CLASS_ID for class_id in flagged):
        return f"scored refused images as classes {flagged}, not {REFUSED_CLASS_ID}"
    good = {key: value[:1] for key, value in outputs.items()}
    return _differences(good, reference, images[:1])


def _differences(
    outputs: dict[str, Any], reference: dict[str, np.ndarray], images: list[TestImage]
) -> str:
    """ "" when every score matches the Evaluator's, else the first that does not."""
    for key in SCORES:
        if key not in reference:
            continue
        if key not in outputs:
            return f"answers no {key!r}"
        served = np.asarray(outputs[key], dtype=np.float64)
        expected = reference[key][: len(images)].astype(np.float64)
        if served.shape != expected.shape:
            return f"{key} has shape {served.shape}, the Evaluator's {expected.shape}"
        gap = np.abs(served - expected)
        if gap.max() > TOLERANCE:
            row = int(np.unravel_index(gap.argmax(), gap.shape)[0])
            return (
                f"{key} {served.reshape(len(images), -1)[row][0]:.6f} for {images[row].name}, the "
                f"Evaluator's {expected.reshape(len(images), -1)[row][0]:.6f} (difference "
                f"{gap.max():.2g} > {TOLERANCE:g})"
            )
    names = [str(n) for n in reference["class_name"][: len(images)]]
    if list(outputs.get("class_name", [])) != names:
        return f"class names {outputs.get('class_name')} where the Evaluator chose {names}"
    return ""
