"""Validation gates for a trained model (the seed's `ModelValidator`): metrics on a holdout,
absolute thresholds, no regression against the champion, and the declared feature schema.

Pure functions: the caller evaluates challenger and champion on the same holdout and decides
what to do with a failed gate (record the version as rejected with `ValidationResults.reasons`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.domain import FeatureType, Task
from core.errors import InvalidInput
from core.stats.metrics import compute_metrics, metric_names, task_of

LOWER_IS_BETTER: frozenset[str] = frozenset({"log_loss", "brier", "mae", "rmse"})

# Float rounding must not fail a challenger that sits exactly on the tolerance boundary.
_SLACK = 1e-9


@dataclass(frozen=True)
class GateResult:
    name: str
    """`min:<metric>`, `max:<metric>`, `champion` or `schema`."""
    passed: bool
    reason: str
    """One human sentence, shown to the operator and stored with a rejected version."""
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None


@dataclass
class ValidationResults:
    metrics: dict[str, float]
    gates: list[GateResult]
    champion_version: str | None = None
    champion_metrics: dict[str, float] | None = None

    @property
    def passed(self) -> bool:
        """True when every gate passed (no gates at all also passes)."""
        return all(g.passed for g in self.gates)

    @property
    def reasons(self) -> list[str]:
        """The reasons of the failed gates, in gate order."""
        return [g.reason for g in self.gates if not g.passed]


def check_gate_metrics(task: str, names: Iterable[str]) -> None:
    """Raise InvalidInput if any gate metric name is not a metric of this task."""
    known = metric_names(task)
    for name in names:
        if name not in known:
            raise InvalidInput(
                f"unknown {task} metric {name!r} in gates; choose one of: {', '.join(known)}"
            )


def evaluate(
    task: str, estimator: Any, X: Any, y: Any
) -> tuple[dict[str, float], np.ndarray, np.ndarray | None]:
    """Predict with a fitted estimator on holdout `X` (a polars DataFrame) and score against `y`.

    Returns (metrics, predictions, scores); scores is `predict_proba` for a classifier that
    has it, else None.
    """
    have = set(getattr(X, "columns", None) or ())
    missing = [str(c) for c in getattr(estimator, "feature_names_in_", ()) if c not in have]
    if have and missing:
        raise InvalidInput(f"holdout is missing feature columns: {', '.join(missing)}")
    pred = np.asarray(estimator.predict(X))
    scores: np.ndarray | None = None
    if task_of(task) is Task.CLASSIFICATION and hasattr(estimator, "predict_proba"):
        scores = np.asarray(estimator.predict_proba(X))
    classes = getattr(estimator, "classes_", None)
    return compute_metrics(task, y, pred, scores, classes), pred, scores


def _fmt(value: float, other: float) -> str:
    # Three decimals, unless that would print two different numbers identically.
    for digits in range(3, 13):
        a, b = f"{value:.{digits}f}", f"{other:.{digits}f}"
        if a != b or value == other:
            return a
    return repr(value)


def _threshold(kind: str, name: str, limit: Any) -> float:
    try:
        t = float(limit)
    except (TypeError, ValueError):
        raise InvalidInput(f"{kind} threshold for {name!r} is not a number: {limit!r}") from None
    if not math.isfinite(t):
        raise InvalidInput(f"{kind} threshold for {name!r} must be finite, got {limit!r}")
    return t


def _value(metrics: Mapping[str, float], name: str, whose: str) -> float:
    if name not in metrics:
        available = ", ".join(sorted(metrics)) or "none"
        raise InvalidInput(
            f"gate metric {name!r} was not computed for the {whose}; available: {available}"
        )
    return float(metrics[name])


def absolute_gates(
    metrics: Mapping[str, float], minimums: Mapping[str, float], maximums: Mapping[str, float]
) -> list[GateResult]:
    """One gate per threshold: `min:<m>` passes when value >= minimum, `max:<m>` when <= maximum."""
    gates: list[GateResult] = []
    for kind, limits in (("min", minimums), ("max", maximums)):
        for name, limit in limits.items():
            t = _threshold("minimum" if kind == "min" else "maximum", name, limit)
            v = _value(metrics, name, "challenger")
            ok = v >= t if kind == "min" else v <= t
            if ok:
                reason = f"{name} {_fmt(v, t)} {'>=' if kind == 'min' else '<='} {t:g}"
            elif math.isnan(v):
                reason = f"{name} is not a number"
            else:
                side = "below the minimum" if kind == "min" else "above the maximum"
                reason = f"{name} {_fmt(v, t)} is {side} {t:g}"
            gates.append(GateResult(f"{kind}:{name}", ok, reason, name, v, t))
    return gates


def champion_gate(
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    champion_version: str | None,
    metric: str,
    tolerance: float,
) -> GateResult:
    """No regression: the challenger may trail the champion on `metric` by at most `tolerance`.

    Higher is better unless the metric is in LOWER_IS_BETTER. Both metric dicts must come
    from the same holdout. A challenger exactly at the tolerance boundary passes.
    """
    tol = _threshold("champion tolerance", metric, tolerance)
    if tol < 0:
        raise InvalidInput(f"champion tolerance must be >= 0, got {tolerance!r}")
    value = _value(challenger, metric, "challenger")
    if champion is None:
        reason = f"no champion: no production version to compare {metric} against"
        return GateResult("champion", True, reason, metric, value)
    who = f"champion {champion_version}" if champion_version else "champion"
    best = _value(champion, metric, who)
    lower = metric in LOWER_IS_BETTER
    shortfall = value - best if lower else best - value
    bound = best + tol if lower else best - tol
    ok = shortfall <= tol + _SLACK * max(1.0, abs(best))
    worse = "above" if lower else "below"
    if math.isnan(shortfall):
        ok, reason = False, f"{metric} cannot be compared with {who}: a value is not a number"
    elif shortfall <= 0:
        better = "<=" if lower else ">="
        reason = f"{metric} {_fmt(value, best)} {better} {who} ({_fmt(best, value)})"
    else:
        gap = f"{_fmt(value, best)} is {shortfall:.3f} {worse} {who} ({_fmt(best, value)})"
        reason = f"{metric} {gap}, {'within ' if ok else ''}tolerance {tol:g}"
    return GateResult("champion", ok, reason, metric, value, bound)


def _types(features: Mapping[str, str], whose: str) -> dict[str, str]:
    valid = {t.value for t in FeatureType}
    for name, kind in features.items():
        if str(kind) not in valid:
            raise InvalidInput(
                f"{whose} feature {name!r} has unknown type {kind!r}; "
                f"choose one of: {', '.join(sorted(valid))}"
            )
    return {name: str(kind) for name, kind in features.items()}


def schema_gate(
    declared_features: Mapping[str, str],
    actual_features: Mapping[str, str],
    declared_target: str | None,
    actual_target: str,
) -> GateResult:
    """The features (names and FeatureType values) and target used in training must match
    the model's declared schema; a model that declares no features accepts any."""
    declared = _types(declared_features, "declared")
    actual = _types(actual_features, "training")
    if not declared:
        reason = f"model declares no feature schema; training used {len(actual)} features"
        return GateResult("schema", True, reason)
    found = {
        "missing features": [n for n in declared if n not in actual],
        "unexpected features": [n for n in actual if n not in declared],
        "type mismatches": [
            f"{n} declared {t}, got {actual[n]}"
            for n, t in declared.items()
            if n in actual and t != actual[n]
        ],
    }
    problems = [f"{label}: {', '.join(names)}" for label, names in found.items() if names]
    if declared_target is not None and declared_target != actual_target:
        problems.append(f"target declared {declared_target!r}, got {actual_target!r}")
    if problems:
        return GateResult("schema", False, "schema mismatch: " + "; ".join(problems))
    reason = f"training features match the declared schema ({len(declared)} features)"
    return GateResult("schema", True, reason)
