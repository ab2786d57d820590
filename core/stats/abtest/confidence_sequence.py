"""Always-valid confidence sequences on the lift.

"Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Statist.), the
two-sided normal-mixture boundary in the asymptotic form of Waudby-Smith et al. (2023,
arXiv:2103.06476v7, eq. 9), exactly as GrowthBook's ``SequentialTwoSidedTTest`` applies it
to the difference of two means. With ``N = n_c + n_t``, ``V`` the variance of the estimate
(``se²`` above, or the delta-method variance for the relative lift) and ``s² = N·V``::

    half-width = sqrt(s²) · sqrt( 2(Nρ² + 1) / (N²ρ²) · ln( sqrt(Nρ² + 1) / α ) )

and ρ is chosen so the boundary is tightest at ``N = n*`` (the *tuning* parameter,
GrowthBook default 5,000; Howard et al. eq. for the optimal mixture variance)::

    ρ² = ( -2 ln α + ln(1 - 2 ln α) ) / n*

The always-valid p-value is the smallest α whose CS excludes 0 — the inverse of the
boundary (equivalently 1 / the mixture e-value, GrowthBook ``p_value``)::

    p = min(1, sqrt(Nρ² + 1) · exp( - z² · Nρ² / (2(Nρ² + 1)) )),   z = lift / sqrt(V)
"""

from __future__ import annotations

import math

from core.errors import InvalidInput
from core.stats.abtest.arms import ArmStats, check_arms
from core.stats.abtest.comparison import Comparison, compare, known_exactly
from core.stats.abtest.inputs import DEFAULT_ALPHA, DEFAULT_TUNING, check_alpha, finite


def sequential_rho(alpha: float = DEFAULT_ALPHA, tuning: float = DEFAULT_TUNING) -> float:
    """Mixture parameter ρ of the normal-mixture boundary, tightest at N = ``tuning`` units.

    ``ρ = sqrt( (-2 ln α + ln(1 - 2 ln α)) / n* )`` (Howard et al. 2021; GrowthBook ``rho``).
    """
    alpha = check_alpha(alpha)
    n_star = finite(tuning, "tuning")
    if n_star <= 0:
        raise InvalidInput(f"tuning must be > 0, got {tuning!r}")
    la = math.log(alpha)
    return math.sqrt((-2.0 * la + math.log(1.0 - 2.0 * la)) / n_star)


def _cs(
    est: float, var: float, n_total: int, rho: float, alpha: float
) -> tuple[float, float, float, float]:
    """(z, always-valid p, lo, hi) of the normal-mixture confidence sequence."""
    if var <= 0:
        return known_exactly(est)
    nr2 = n_total * rho * rho
    s2 = var * n_total
    half = math.sqrt(s2) * math.sqrt(
        2.0 * (nr2 + 1.0) / (nr2 * n_total) * math.log(math.sqrt(nr2 + 1.0) / alpha)
    )
    z = est / math.sqrt(var)
    log_p = 0.5 * math.log(nr2 + 1.0) - z * z * nr2 / (2.0 * (nr2 + 1.0))
    p = 1.0 if log_p >= 0 else math.exp(log_p)
    return z, p, est - half, est + half


def sequential(
    control: ArmStats,
    treatment: ArmStats,
    alpha: float = DEFAULT_ALPHA,
    tuning: float = DEFAULT_TUNING,
) -> Comparison:
    """Always-valid confidence sequence for the lift (absolute and delta-method relative).

    Valid at every look: an operator may analyse after each batch and stop whenever the CS
    excludes 0 (``significant``) with the false-positive rate kept at ``alpha``. ``tuning`` is
    the total sample size N = n_c + n_t where the boundary is tightest (GrowthBook's "n*").
    """
    alpha = check_alpha(alpha)
    rho = sequential_rho(alpha, tuning)
    check_arms(control, treatment)
    n_total = control.n + treatment.n
    return compare(
        "sequential",
        alpha,
        control,
        treatment,
        lambda est, var: _cs(est, var, n_total, rho, alpha),
        df=None,
        by_interval=True,
    )
