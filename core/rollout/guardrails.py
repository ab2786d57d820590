"""Guardrails and the analysis gate between progressive-rollout steps.

A guardrail ("error_rate<0.02") is a condition that must HOLD for the canary to be healthy.
Between steps the controller measures each guardrail and folds the results into a decision,
following Argo Rollouts' AnalysisRun:

- `measure`: fewer samples than `min_samples` (`samples == min_samples` is enough), or no
  value (None or NaN, e.g. no labels have arrived yet) → INCONCLUSIVE; otherwise SUCCESSFUL if
  the condition holds, else FAILED. Samples are requests, or labelled events for metrics that
  need actuals (accuracy, precision, recall, f1, roc_auc, mae, rmse).
- `analyse`: FAILED if any measurement failed; else INCONCLUSIVE if any was inconclusive; else
  SUCCESSFUL (also with no guardrails at all: a rollout without a gate just steps on). A metric
  missing from the values counts as no data.
- `decide`, with Argo's failureLimit: failures accumulate over the whole rollout (a success
  does not reset them) and the rollout ABORTs when the total EXCEEDS `failure_limit`, so the
  default 0 aborts on the first failure. Unlike Argo, which keeps one count per metric, all
  guardrails share one budget (each failed measurement counts one), which is stricter.
  A failed analysis within the limit RETRYs: measure again after another interval without
  moving weights. An inconclusive one PAUSEs for a human (Argo's inconclusive phase). Only a
  successful one PROMOTE_STEPs to the next weights.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from core.domain import ComparisonOperator
from core.errors import InvalidInput

METRICS = (
    "error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "accuracy", "precision",
    "recall", "f1", "roc_auc", "mae", "rmse", "prediction_mean", "requests"
)  # fmt: skip
LABELLED_METRICS = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "mae", "rmse"})

_METRIC = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")
# Two-character operators first, so ">=" is not read as ">" followed by "=0.85".
_OPERATOR = re.compile(r"(>=|<=|==|!=|>|<)\s*")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_SHAPE = "expected METRIC OP NUMBER, e.g. error_rate<0.02"


@dataclass(frozen=True)
class Guardrail:
    metric: str
    comparison: ComparisonOperator
    threshold: float
    text: str
    """Canonical form, e.g. "error_rate<0.02": no spaces, shortest round-tripping number."""


def _number(value: float) -> str:
    return repr(float(value)).removesuffix(".0")


def parse_guardrail(text: str) -> Guardrail:
    """Parse "METRIC OP NUMBER" (spaces allowed), e.g. "latency_p99_ms < 50"."""
    # Checked although typed: callers outside the type checker may pass anything.
    if not isinstance(cast(object, text), str) or not text.strip():
        raise InvalidInput(f"guardrail is empty: {_SHAPE}")
    m = _METRIC.match(text)
    if m is None:
        raise InvalidInput(f"guardrail {text!r}: {_SHAPE}")
    metric = m.group(1)
    if metric not in METRICS:
        raise InvalidInput(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}")
    op = _OPERATOR.match(text, m.end())
    if op is None:
        raise InvalidInput(f"guardrail {text!r}: no operator (> >= < <= == !=) after {metric}")
    raw = text[op.end() :].strip()
    # A plain decimal only: float() alone would also take "nan", "inf" and "1_000".
    if not _NUMBER.fullmatch(raw) or not math.isfinite(threshold := float(raw)):
        raise InvalidInput(f"guardrail {text!r}: threshold {raw!r} is not a finite number")
    comparison = ComparisonOperator(op.group(1))
    canonical = f"{metric}{comparison.value}{_number(threshold)}"
    return Guardrail(metric, comparison, threshold, canonical)


class Verdict(StrEnum):
    SUCCESSFUL = "successful"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Measurement:
    guardrail: str
    value: float | None
    samples: int
    verdict: Verdict
    reason: str


def _count(metric: str, samples: int) -> str:
    return f"{samples} {'labelled events' if metric in LABELLED_METRICS else 'requests'}"


def _shown(value: float, g: Guardrail, holds: bool) -> str:
    # Just enough digits that the text agrees with the verdict and shows a value that merely
    # rounds to the threshold as different from it: never "0.02 breaks <= 0.02".
    for digits in range(3, 18):
        shown = float(text := f"{value:.{digits}g}")
        agrees = g.comparison.compare(shown, g.threshold) == holds
        if agrees and (shown != g.threshold or value == g.threshold):
            return text
    return repr(value)


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{name} must be a non-negative integer, not {value!r}")
    return value


def measure(
    guardrail: Guardrail, value: float | None, samples: int, min_samples: int
) -> Measurement:
    """Judge one guardrail on one observed value computed from `samples` events."""
    _check_count("samples", samples)
    _check_count("min_samples", min_samples)
    g = guardrail
    # NaN becomes None so a measurement always serialises to valid JSON.
    clean = None if value is None or math.isnan(value) else float(value)
    if samples < min_samples:
        reason = f"only {_count(g.metric, samples)}, need {min_samples}"
        return Measurement(g.text, clean, samples, Verdict.INCONCLUSIVE, reason)
    if clean is None:
        reason = f"no {g.metric} value yet ({_count(g.metric, samples)})"
        return Measurement(g.text, None, samples, Verdict.INCONCLUSIVE, reason)
    holds = g.comparison.compare(clean, g.threshold)
    shown, verb = _shown(clean, g, holds), "holds" if holds else "breaks"
    rule = f"{g.comparison.value} {_number(g.threshold)}"
    reason = f"{g.metric} {shown} {verb} {rule} ({_count(g.metric, samples)})"
    verdict = Verdict.SUCCESSFUL if holds else Verdict.FAILED
    return Measurement(g.text, clean, samples, verdict, reason)


@dataclass(frozen=True)
class AnalysisResult:
    measurements: list[Measurement]
    verdict: Verdict
    failures: int
    """Number of FAILED measurements in this analysis."""


def analyse(
    guardrails: Sequence[Guardrail],
    values: Mapping[str, tuple[float | None, int]],
    min_samples: int,
) -> AnalysisResult:
    """Measure every guardrail on `values[metric] = (value, samples)` and combine the verdicts."""
    _check_count("min_samples", min_samples)
    measurements: list[Measurement] = []
    for g in guardrails:
        if g.metric in values:
            value, samples = values[g.metric]
            measurements.append(measure(g, value, samples, min_samples))
        else:
            reason = f"no data for {g.metric}"
            measurements.append(Measurement(g.text, None, 0, Verdict.INCONCLUSIVE, reason))
    failures = sum(m.verdict is Verdict.FAILED for m in measurements)
    unsure = any(m.verdict is Verdict.INCONCLUSIVE for m in measurements)
    verdict = Verdict.FAILED if failures else Verdict.INCONCLUSIVE if unsure else Verdict.SUCCESSFUL
    return AnalysisResult(measurements, verdict, failures)


class Decision(StrEnum):
    PROMOTE_STEP = "promote_step"
    ABORT = "abort"
    PAUSE = "pause"
    RETRY = "retry"


def _listing(r: AnalysisResult, v: Verdict) -> str:
    return "; ".join(f"{m.guardrail}: {m.reason}" for m in r.measurements if m.verdict is v)


def decide(
    result: AnalysisResult, failures_so_far: int, failure_limit: int
) -> tuple[Decision, int, str]:
    """Turn one analysis into (decision, failures total for the rollout, one-line reason)."""
    _check_count("failures_so_far", failures_so_far)
    _check_count("failure_limit", failure_limit)
    if result.verdict is Verdict.SUCCESSFUL:
        n = len(result.measurements)
        why = f"all {n} guardrails hold" if n != 1 else "the guardrail holds"
        return Decision.PROMOTE_STEP, failures_so_far, why if n else "no guardrails to check"
    if result.verdict is Verdict.INCONCLUSIVE:
        why = _listing(result, Verdict.INCONCLUSIVE)
        return Decision.PAUSE, failures_so_far, f"paused, inconclusive: {why}"
    total = failures_so_far + result.failures
    why = _listing(result, Verdict.FAILED)
    tally = f"{total} failures, limit {failure_limit}"
    if total > failure_limit:
        return Decision.ABORT, total, f"aborted ({tally}): {why}"
    return Decision.RETRY, total, f"retrying after the next interval ({tally}): {why}"
