"""The frequentist result of one treatment-vs-control comparison and the lift moments it is
built from (absolute lift with Welch–Satterthwaite df; relative lift by the delta method)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from core.stats.abtest.arms import ArmStats

Test = Callable[[float, float], tuple[float, float, float, float]]
"""(estimate, its variance) -> (statistic, p, lo, hi): one method's test of a lift against 0."""


@dataclass(frozen=True)
class Comparison:
    """Treatment vs control on one metric.

    ``lift`` is absolute (``mean_t - mean_c``) with ``lift_se`` and ``lift_ci``; ``rel_*`` is
    the relative lift ``mean_t/mean_c - 1`` by the delta method (None when the control mean is
    0). ``statistic``/``df``/``p_value``/``significant`` test the absolute lift against 0
    (``df`` is None for the normal-based sequential method). ``rel_p_value`` tests the relative
    lift by its own delta-method statistic.
    """

    method: str
    alpha: float
    control_n: int
    treatment_n: int
    control_mean: float
    treatment_mean: float
    lift: float
    lift_se: float
    lift_ci: tuple[float, float]
    rel_lift: float | None
    rel_se: float | None
    rel_ci: tuple[float, float] | None
    statistic: float
    df: float | None
    p_value: float
    rel_p_value: float | None
    significant: bool


def abs_moments(control: ArmStats, treatment: ArmStats) -> tuple[float, float, float]:
    """(lift, variance of the lift, Welch–Satterthwaite df)."""
    vc, vt = control.var / control.n, treatment.var / treatment.n
    var = vc + vt
    denom = vc * vc / (control.n - 1) + vt * vt / (treatment.n - 1)
    df = var * var / denom if denom > 0 else float(control.n + treatment.n - 2)
    return treatment.mean - control.mean, var, df


def rel_moments(control: ArmStats, treatment: ArmStats) -> tuple[float, float] | None:
    """(relative lift, delta-method variance) or None when the control mean is 0."""
    mc, mt = control.mean, treatment.mean
    if mc == 0:
        return None
    var = treatment.var / (treatment.n * mc * mc) + control.var * mt * mt / (control.n * mc**4)
    return mt / mc - 1.0, var


def known_exactly(est: float) -> tuple[float, float, float, float]:
    """(statistic, p, lo, hi) when the variance is 0: both arms constant, the difference is
    known exactly."""
    return (
        (0.0 if est == 0 else math.copysign(math.inf, est)),
        (1.0 if est == 0 else 0.0),
        est,
        est,
    )


def compare(
    method: str,
    alpha: float,
    control: ArmStats,
    treatment: ArmStats,
    test: Test,
    *,
    df: float | None,
    by_interval: bool,
) -> Comparison:
    """The comparison of ``method``: ``test`` applied to the absolute and the relative lift.

    ``significant`` is the interval excluding 0 when ``by_interval``, else ``p < alpha``.
    """
    lift, var, _ = abs_moments(control, treatment)
    stat, p, lo, hi = test(lift, var)
    rel = rel_moments(control, treatment)
    rel_lift = rel_se = rel_ci = rel_p = None
    if rel is not None:
        rel_lift, rel_var = rel
        _, rel_p, rlo, rhi = test(rel_lift, rel_var)
        rel_se, rel_ci = math.sqrt(rel_var), (rlo, rhi)
    return Comparison(
        method=method,
        alpha=alpha,
        control_n=control.n,
        treatment_n=treatment.n,
        control_mean=control.mean,
        treatment_mean=treatment.mean,
        lift=lift,
        lift_se=math.sqrt(var),
        lift_ci=(lo, hi),
        rel_lift=rel_lift,
        rel_se=rel_se,
        rel_ci=rel_ci,
        statistic=stat,
        df=df,
        p_value=p,
        rel_p_value=rel_p,
        significant=(lo > 0 or hi < 0) if by_interval else p < alpha,
    )
