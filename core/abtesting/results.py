"""What an A/B test's analysis finds: per-arm figures, each treatment against the control,
guardrails, and the recommendation (`core.abtesting.analysis` computes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ArmMetric:
    version: str
    metric: str
    n: int
    mean: float | None
    sd: float | None


@dataclass(frozen=True)
class MetricComparison:
    """One treatment vs the control on one metric.

    `better` is True/False when the difference is significant in the treatment's favour or
    against it (metric direction accounted for), None when not significant. For the Bayesian
    method `p_value`/`adjusted_p` are None and `chance_to_beat` is the posterior probability
    that the treatment is better (direction accounted for); `risk` is the expected loss of
    shipping the treatment (in metric units).
    """

    treatment: str
    metric: str
    role: str  # primary | secondary | guardrail
    control_n: int
    treatment_n: int
    control_mean: float
    treatment_mean: float
    lift: float
    ci: tuple[float, float]
    rel_lift: float | None
    rel_ci: tuple[float, float] | None
    p_value: float | None
    adjusted_p: float | None
    chance_to_beat: float | None
    risk: float | None
    significant: bool
    better: bool | None


@dataclass(frozen=True)
class GuardrailStatus:
    treatment: str
    metric: str
    status: str  # ok | broken | insufficient data
    detail: str


@dataclass(frozen=True)
class TestResults:
    __test__ = False  # not a pytest class

    test_id: str
    analyzed_at: datetime
    method: str
    alpha: float
    unit: str
    control: str
    arms: dict[str, dict[str, ArmMetric]]
    comparisons: list[MetricComparison]
    srm: dict[str, Any]
    power: dict[str, Any]
    guardrails: list[GuardrailStatus]
    recommendation: str
    winner: str | None
    promotable: bool
    notes: list[str] = field(default_factory=list)
