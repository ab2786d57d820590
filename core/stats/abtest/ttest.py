"""Welch's t-test on the lift.

Welch's unequal-variance t-test (Welch 1947) on the absolute lift:
``se² = s_c²/n_c + s_t²/n_t``, ``t = lift/se``, Welch–Satterthwaite degrees of freedom
``df = se⁴ / ((s_c²/n_c)²/(n_c-1) + (s_t²/n_t)²/(n_t-1))``, ``p = 2·(1 - F_t(|t|; df))``,
CI ``lift ± t_{1-α/2, df}·se``. Identical to ``scipy.stats.ttest_ind(equal_var=False)``.
The relative lift uses the delta method for a ratio of independent means, as GrowthBook's
``gbstats`` (``TTest.variance``) and Eppo do:
``Var(m_t/m_c) ≈ s_t²/(n_t·m_c²) + s_c²·m_t²/(n_c·m_c⁴)``, with the same df and t quantile.
"""

from __future__ import annotations

import math

from scipy import special  # not scipy.stats: a second of import time the console waits for

from core.stats.abtest.arms import ArmStats, check_arms
from core.stats.abtest.comparison import Comparison, abs_moments, compare, known_exactly
from core.stats.abtest.inputs import DEFAULT_ALPHA, check_alpha


def _t_test(est: float, var: float, df: float, alpha: float) -> tuple[float, float, float, float]:
    """(statistic, p, lo, hi) for a two-sided t test; degenerate variance handled explicitly."""
    if var <= 0:
        return known_exactly(est)
    se = math.sqrt(var)
    t = est / se
    p = float(2.0 * special.stdtr(df, -abs(t)))
    q = float(special.stdtrit(df, 1.0 - alpha / 2.0))
    return t, min(1.0, p), est - q * se, est + q * se


def welch(control: ArmStats, treatment: ArmStats, alpha: float = DEFAULT_ALPHA) -> Comparison:
    """Two-sided Welch t-test on the absolute lift, with the delta-method relative lift.

    Equals ``scipy.stats.ttest_ind(treatment, control, equal_var=False)`` (statistic, p-value,
    df and ``confidence_interval``) on the raw values. See the module docstring for formulas.
    """
    alpha = check_alpha(alpha)
    check_arms(control, treatment)
    _, _, df = abs_moments(control, treatment)
    return compare(
        "welch",
        alpha,
        control,
        treatment,
        lambda est, var: _t_test(est, var, df, alpha),
        df=df,
        by_interval=False,
    )
