"""Bayesian summary of the lift.

approximately normal); the running minimum of ``p`` over looks is also valid.

``bayesian``
Normal–normal conjugate model on the lift (GrowthBook's Bayesian engine since 2.x,
``EffectBayesianABTest``): the likelihood is ``lift_hat ~ N(lift, V)`` and the prior
``N(prior_mean, prior_sd²)`` (``prior_sd=None`` is flat, the posterior is then the
likelihood). Posterior precision ``1/V + 1/prior_sd²``, mean
``(lift_hat/V + prior_mean/prior_sd²)/precision``. With ``X ~ N(μ, σ²)`` the posterior:
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special  # not scipy.stats: a second of import time the console waits for

from core.errors import InvalidInput
from core.stats.abtest.arms import ArmStats, check_arms
from core.stats.abtest.comparison import abs_moments, rel_moments
from core.stats.abtest.inputs import DEFAULT_ALPHA, check_alpha, finite


@dataclass(frozen=True)
class BayesResult:
    """Gaussian posterior on the lift (absolute, or relative when ``relative`` is True).

    ``risk_treatment`` is the expected loss (in lift units) of shipping the treatment,
    ``risk_control`` that of keeping the control; ``ci`` is the equal-tailed credible interval
    at level ``1 - alpha``.
    """

    relative: bool
    alpha: float
    lift_hat: float
    post_mean: float
    post_sd: float
    chance_to_beat: float
    risk_treatment: float
    risk_control: float
    ci: tuple[float, float]


def bayesian(
    control: ArmStats,
    treatment: ArmStats,
    prior_mean: float = 0.0,
    prior_sd: float | None = None,
    *,
    relative: bool = False,
    alpha: float = DEFAULT_ALPHA,
) -> BayesResult:
    """Normal–normal posterior on the lift with an explicit prior (None = flat).

    The prior is on the same scale as the lift: absolute (``mean_t - mean_c``) by default,
    relative (``mean_t/mean_c - 1``, delta-method likelihood variance) with ``relative=True``.
    """
    alpha = check_alpha(alpha)
    check_arms(control, treatment)
    m0 = finite(prior_mean, "prior_mean")
    tau = None if prior_sd is None else finite(prior_sd, "prior_sd")
    if tau is not None and tau <= 0:
        raise InvalidInput(f"prior_sd must be > 0 (or None for a flat prior), got {prior_sd!r}")
    if relative:
        rel = rel_moments(control, treatment)
        if rel is None:
            raise InvalidInput("relative lift is undefined: the control mean is 0")
        est, var = rel
    else:
        est, var, _ = abs_moments(control, treatment)
    if var <= 0:  # both arms constant: the likelihood is a point mass at the estimate
        mu, sd = est, 0.0
    elif tau is None:
        mu, sd = est, math.sqrt(var)
    else:
        prec = 1.0 / var + 1.0 / (tau * tau)
        mu, sd = (est / var + m0 / (tau * tau)) / prec, math.sqrt(1.0 / prec)
    if sd == 0:
        ctb = 1.0 if mu > 0 else (0.5 if mu == 0 else 0.0)
        risk_t, risk_c, ci = max(0.0, -mu), max(0.0, mu), (mu, mu)
    else:
        k = mu / sd
        pdf = math.exp(-0.5 * k * k) / math.sqrt(2.0 * math.pi)
        ctb = float(special.ndtr(k))
        risk_t = sd * pdf - mu * float(special.ndtr(-k))
        risk_c = sd * pdf + mu * ctb
        q = float(special.ndtri(1.0 - alpha / 2.0))
        ci = (mu - q * sd, mu + q * sd)
    return BayesResult(
        relative=relative,
        alpha=alpha,
        lift_hat=est,
        post_mean=mu,
        post_sd=sd,
        chance_to_beat=ctb,
        risk_treatment=max(0.0, risk_t),
        risk_control=max(0.0, risk_c),
        ci=ci,
    )
