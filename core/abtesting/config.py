"""What an A/B test is configured with, and the metrics it can measure.

A metric is a per-unit value computed in DuckDB from `prediction_events` (and `actuals`,
joined on `event_key`) by `storage.repos.abtest_sums`, which holds each metric's SQL; proportion
metrics are means of 0/1 values, so the statistics treat every metric as a mean (see
`core.stats.abtest`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, cast

from core.domain import Task
from core.errors import InvalidInput
from core.names import version_number

METHODS = ("fixed", "sequential", "bayesian")
UNITS = ("request_id", "unit_id")


@dataclass(frozen=True)
class MetricDef:
    name: str
    higher_is_better: bool
    proportion: bool
    tasks: frozenset[Task]
    description: str


_BOTH = frozenset(Task)
METRICS: dict[str, MetricDef] = {
    m.name: m
    for m in (
        MetricDef("accuracy", True, True, frozenset({Task.CLASSIFICATION}),
                  "share of labelled predictions that match the actual label"),
        MetricDef("error_rate", False, True, _BOTH, "share of requests that failed"),
        MetricDef("latency_ms", False, False, _BOTH, "mean latency in milliseconds"),
        MetricDef("prediction", True, False, _BOTH,
                  "mean predicted value (regression) or score (classification)"),
        MetricDef("mae", False, False, frozenset({Task.REGRESSION}),
                  "mean absolute error of labelled predictions"),
    )
}  # fmt: skip


def _num(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise InvalidInput(f"{name} must be finite, got {value!r}")
    return out


def canonical_version(ref: str) -> str:
    number = version_number(str(ref))
    if number is None:
        raise InvalidInput(f"{ref!r} is not a version: use v1, v2, ...")
    return f"v{number}"


def check_split(versions: list[str], split: dict[str, float]) -> dict[str, float]:
    """Percentages keyed by the test's versions: finite, >= 0, every version present, sum 100."""
    # Checked although typed: callers outside the type checker may pass anything.
    if not isinstance(cast(object, split), dict) or not split:
        raise InvalidInput("the split is empty: give a percentage per version, e.g. 50,50")
    out: dict[str, float] = {}
    for ref, pct in split.items():
        v = canonical_version(ref)
        if v in out:
            raise InvalidInput(f"version {v} appears twice in the split")
        p = _num(pct, f"split percentage of {v}")
        if p < 0:
            raise InvalidInput(f"split percentage of {v} must be >= 0, got {pct!r}")
        out[v] = p
    if set(out) != set(versions):
        missing = sorted(set(versions) - set(out))
        extra = sorted(set(out) - set(versions))
        parts = [f"missing {', '.join(missing)}" if missing else "",
                 f"not in the test: {', '.join(extra)}" if extra else ""]  # fmt: skip
        raise InvalidInput(
            f"the split must name exactly the test's versions ({', '.join(versions)}):"
            f" {'; '.join(p for p in parts if p)}"
        )
    total = math.fsum(out.values())
    if abs(total - 100.0) > 1e-6:
        raise InvalidInput(f"split percentages sum to {total:.10g}, not 100")
    if sum(1 for p in out.values() if p > 0) < 2:
        raise InvalidInput("a split must send traffic to at least two versions")
    return {v: out[v] for v in versions}


@dataclass(frozen=True)
class ABTestConfig:
    """An experiment between versions of one model. The first version is the control."""

    model: str
    name: str
    versions: list[str]
    split: dict[str, float] | None = None
    """Percent per version, summing to 100; None splits evenly."""
    unit: str = "request_id"
    primary_metric: str = "accuracy"
    secondary_metrics: list[str] = field(default_factory=list)
    guardrail_metrics: list[str] = field(default_factory=list)
    alpha: float = 0.05
    power: float = 0.8
    mde: float = 0.02
    """Minimum detectable effect, relative to the control's mean (0.02 = 2%)."""
    method: str = "fixed"
    min_sample_per_arm: int = 1000
    max_duration_s: float | None = None
    auto_promote: bool = False
    environment: str = "production"
    sequential_tuning: float = 5000.0
    prior_sd: float | None = None
    """Bayesian prior sd on the absolute lift (mean 0); None is a flat prior."""

    def checked(self, task: Task) -> ABTestConfig:
        """Validated and canonical (versions as vN, split in percent); raises InvalidInput."""
        if not isinstance(cast(object, self.name), str) or not self.name.strip():
            raise InvalidInput("an A/B test needs a name")
        if len(self.name) > 200:
            raise InvalidInput("the test name is longer than 200 characters")
        versions = [canonical_version(v) for v in self.versions]
        if len(versions) < 2:
            raise InvalidInput("an A/B test needs at least two versions (the first is the control)")
        if len(set(versions)) != len(versions):
            raise InvalidInput("each version may appear only once in an A/B test")
        split = (
            {v: 100.0 / len(versions) for v in versions}
            if self.split is None
            else check_split(versions, self.split)
        )
        if self.unit not in UNITS:
            raise InvalidInput(f"unknown unit {self.unit!r}: use {' or '.join(UNITS)}")
        if self.method not in METHODS:
            raise InvalidInput(f"unknown method {self.method!r}: use {', '.join(METHODS)}")
        names = [self.primary_metric, *self.secondary_metrics, *self.guardrail_metrics]
        for m in names:
            if m not in METRICS:
                raise InvalidInput(f"unknown metric {m!r}: supported are {', '.join(METRICS)}")
            if task not in METRICS[m].tasks:
                raise InvalidInput(f"metric {m!r} does not apply to a {task} model")
        if len(set(names)) != len(names):
            raise InvalidInput("a metric may appear only once among primary, secondary, guardrails")
        alpha = _num(self.alpha, "alpha")
        if not 0 < alpha < 1:
            raise InvalidInput(f"alpha must be in (0, 1), got {self.alpha!r}")
        power = _num(self.power, "power")
        if not 0 < power < 1:
            raise InvalidInput(f"power must be in (0, 1), got {self.power!r}")
        mde = _num(self.mde, "mde")
        if not 0 < mde < 10:
            raise InvalidInput(f"mde is a relative effect in (0, 10), e.g. 0.02; got {self.mde!r}")
        if isinstance(self.min_sample_per_arm, bool) or not isinstance(
            cast(object, self.min_sample_per_arm), int
        ):
            raise InvalidInput("min_sample_per_arm must be an integer")
        if self.min_sample_per_arm < 2:
            raise InvalidInput("min_sample_per_arm must be at least 2")
        max_s = None if self.max_duration_s is None else _num(self.max_duration_s, "max_duration_s")
        if max_s is not None and max_s <= 0:
            raise InvalidInput("max_duration_s must be positive")
        if self.environment not in ("production", "staging"):
            raise InvalidInput(f"unknown environment {self.environment!r}")
        tuning = _num(self.sequential_tuning, "sequential_tuning")
        if tuning <= 0:
            raise InvalidInput("sequential_tuning must be positive")
        prior = None if self.prior_sd is None else _num(self.prior_sd, "prior_sd")
        if prior is not None and prior <= 0:
            raise InvalidInput("prior_sd must be positive (or None for a flat prior)")
        return ABTestConfig(
            model=self.model, name=self.name.strip(), versions=versions, split=split,
            unit=self.unit, primary_metric=self.primary_metric,
            secondary_metrics=list(self.secondary_metrics),
            guardrail_metrics=list(self.guardrail_metrics), alpha=alpha, power=power, mde=mde,
            method=self.method, min_sample_per_arm=self.min_sample_per_arm, max_duration_s=max_s,
            auto_promote=bool(self.auto_promote), environment=self.environment,
            sequential_tuning=tuning, prior_sd=prior,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """The settings stored in `ab_tests.config` (model, name, versions, split have columns)."""
        return {
            "unit": self.unit,
            "primary_metric": self.primary_metric,
            "secondary_metrics": list(self.secondary_metrics),
            "guardrail_metrics": list(self.guardrail_metrics),
            "alpha": self.alpha,
            "power": self.power,
            "mde": self.mde,
            "method": self.method,
            "min_sample_per_arm": self.min_sample_per_arm,
            "max_duration_s": self.max_duration_s,
            "auto_promote": self.auto_promote,
            "sequential_tuning": self.sequential_tuning,
            "prior_sd": self.prior_sd,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any], config: dict[str, Any], split: dict[str, float],
                 versions: list[str]) -> ABTestConfig:  # fmt: skip
        return cls(
            model=row["model_id"], name=row["name"], versions=versions, split=split,
            environment=row["environment"], **config,
        )  # fmt: skip
