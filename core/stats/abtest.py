"""A/B test statistics: pure functions over per-arm sufficient statistics (n, sum, sum of squares).

Nothing here does I/O; the per-arm sums come from DuckDB (``count(x), sum(x), sum(x*x)``). A
proportion metric (accuracy, error rate, conversion) is the same as a mean metric over 0/1
values, so one code path serves both. Conventions used throughout:

- *control* is the baseline arm, *treatment* the challenger; the absolute lift is
  ``mean_t - mean_c`` and the relative lift is ``mean_t / mean_c - 1``. Larger is "better" in
  the Bayesian summaries; for a lower-is-better metric (latency, error rate) read
  ``chance_to_beat`` as the chance that the treatment is *higher*, i.e. worse.
- variances are sample variances (ddof=1): ``s² = (Σx² - (Σx)²/n) / (n - 1)``.
- every test is two-sided; ``alpha`` is the total error rate (0.05 → 95% intervals).

Methods and their sources:

``welch``
    Welch's unequal-variance t-test (Welch 1947) on the absolute lift:
    ``se² = s_c²/n_c + s_t²/n_t``, ``t = lift/se``, Welch–Satterthwaite degrees of freedom
    ``df = se⁴ / ((s_c²/n_c)²/(n_c-1) + (s_t²/n_t)²/(n_t-1))``, ``p = 2·(1 - F_t(|t|; df))``,
    CI ``lift ± t_{1-α/2, df}·se``. Identical to ``scipy.stats.ttest_ind(equal_var=False)``.
    The relative lift uses the delta method for a ratio of independent means, as GrowthBook's
    ``gbstats`` (``TTest.variance``) and Eppo do:
    ``Var(m_t/m_c) ≈ s_t²/(n_t·m_c²) + s_c²·m_t²/(n_c·m_c⁴)``, with the same df and t quantile.

``sequential``
    Always-valid confidence sequence (CS) of Howard, Ramdas, McAuliffe & Sekhon (2021,
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

    so ``p <= α`` exactly when the CS excludes 0. Under any data-dependent stopping time the CS
    covers the true lift with probability >= 1 - α (asymptotically, as the estimate is
    approximately normal); the running minimum of ``p`` over looks is also valid.

``bayesian``
    Normal–normal conjugate model on the lift (GrowthBook's Bayesian engine since 2.x,
    ``EffectBayesianABTest``): the likelihood is ``lift_hat ~ N(lift, V)`` and the prior
    ``N(prior_mean, prior_sd²)`` (``prior_sd=None`` is flat, the posterior is then the
    likelihood). Posterior precision ``1/V + 1/prior_sd²``, mean
    ``(lift_hat/V + prior_mean/prior_sd²)/precision``. With ``X ~ N(μ, σ²)`` the posterior:
    chance to beat control ``P(X > 0) = Φ(μ/σ)``; expected loss of shipping the treatment
    ``E[max(0, -X)] = σφ(μ/σ) - μΦ(-μ/σ)``; of keeping the control
    ``E[max(0, X)] = σφ(μ/σ) + μΦ(μ/σ)``; equal-tailed credible interval ``μ ± z_{1-α/2}σ``.

``srm``
    Pearson chi-square goodness of fit of observed arm counts against ``total·wᵢ/Σw``
    (k - 1 df), as ``scipy.stats.chisquare``; ``mismatch`` when ``p < threshold`` (0.001, the
    Microsoft ExP / Fabijan et al. 2019 convention).

``holm`` / ``benjamini_hochberg``
    Holm (1979) step-down: sorted ``p_(1) <= … <= p_(m)``,
    ``adj_(i) = max_{j<=i} min(1, (m - j + 1)·p_(j))``. Benjamini & Hochberg (1995) step-up:
    ``adj_(i) = min_{j>=i} min(1, m/j · p_(j))``. Both returned in the input order (the same as
    statsmodels ``multipletests(method="holm" | "fdr_bh")``).

``sample_size``
    Two-sided, unpooled-variance normal approximation (the variance the Welch analysis uses):
    ``n_c = (z_{1-α/2} + z_{power})² · (σ_c² + σ_t²/ratio) / δ²`` with ``ratio = n_t/n_c``;
    for a proportion ``σ_c² = p(1-p)`` and ``σ_t² = (p+δ)(1-p-δ)``; for a mean both σ are
    ``baseline_sd``. (Chow, Shao & Wang, *Sample Size Calculations in Clinical Research*, §4.2.)

``cuped_adjust`` / ``cuped_arms``
    CUPED (Deng, Xu, Kohavi & Walker 2013): ``y' = y - θ(x - x̄)`` with
    ``θ = cov(y, x)/var(x)`` and ``x̄`` computed over all units of all arms pooled; randomisation
    makes ``x`` independent of assignment, so the pooled θ leaves the difference in means
    unbiased while removing the variance ``x`` explains (factor ``1 - corr(y, x)²``).
    ``cuped_stats`` does the same from per-arm SQL sums (``PairStats``), no raw values needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special  # not scipy.stats: a second of import time the console waits for

from core.errors import InvalidInput

DEFAULT_ALPHA = 0.05
DEFAULT_TUNING = 5000
SRM_THRESHOLD = 0.001

__all__ = [
    "ArmStats",
    "BayesResult",
    "Comparison",
    "PairStats",
    "SrmResult",
    "bayesian",
    "benjamini_hochberg",
    "cuped_adjust",
    "cuped_arms",
    "cuped_stats",
    "cuped_theta",
    "holm",
    "progress",
    "sample_size",
    "sequential",
    "sequential_rho",
    "srm",
    "welch",
]


# ------------------------------------------------------------------ inputs


def _finite(value: float, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise InvalidInput(f"{name} must be finite, got {value!r}")
    return out


def _check_alpha(alpha: float) -> float:
    a = _finite(alpha, "alpha")
    if not 0.0 < a < 1.0:
        raise InvalidInput(f"alpha must be in (0, 1), got {alpha!r}")
    return a


@dataclass(frozen=True)
class ArmStats:
    """Sufficient statistics of one arm: count, sum and sum of squares of the unit values."""

    n: int
    sum: float
    sum_sq: float

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int | np.integer):
            raise InvalidInput(f"arm count n must be an integer, got {self.n!r}")
        if self.n < 0:
            raise InvalidInput(f"arm count n must be >= 0, got {self.n}")
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "sum", _finite(self.sum, "arm sum"))
        object.__setattr__(self, "sum_sq", _finite(self.sum_sq, "arm sum of squares"))
        if self.sum_sq < 0:
            raise InvalidInput(f"arm sum of squares must be >= 0, got {self.sum_sq}")
        # Cauchy–Schwarz: (Σx)² <= n·Σx²; allow rounding error from the SQL aggregation.
        if self.sum * self.sum > self.n * self.sum_sq * (1 + 1e-9) + 1e-9:
            raise InvalidInput("arm sums are inconsistent: (sum)² exceeds n · sum of squares")

    @classmethod
    def from_values(cls, values: Sequence[float] | np.ndarray) -> ArmStats:
        """Sufficient statistics of raw unit values (0/1 values for a proportion)."""
        arr = np.asarray(values, dtype=float).ravel()
        if arr.size and not np.all(np.isfinite(arr)):
            raise InvalidInput("arm values must be finite numbers")
        return cls(n=int(arr.size), sum=float(arr.sum()), sum_sq=float(np.dot(arr, arr)))

    @classmethod
    def from_moments(cls, n: int, mean: float, var: float) -> ArmStats:
        """Sufficient statistics from a count, mean and sample variance (ddof=1)."""
        m, v = _finite(mean, "mean"), _finite(var, "variance")
        if v < 0:
            raise InvalidInput(f"variance must be >= 0, got {var!r}")
        return cls(n=n, sum=n * m, sum_sq=(n - 1) * v + n * m * m if n else 0.0)

    @property
    def mean(self) -> float:
        """Sample mean Σx/n (NaN for an empty arm)."""
        return self.sum / self.n if self.n else math.nan

    @property
    def var(self) -> float:
        """Sample variance with ddof=1, clamped at 0 against rounding (NaN when n < 2)."""
        if self.n < 2:
            return math.nan
        return max(0.0, (self.sum_sq - self.sum * self.sum / self.n) / (self.n - 1))


def _check_arms(control: ArmStats, treatment: ArmStats) -> None:
    for name, arm in (("control", control), ("treatment", treatment)):
        if not isinstance(arm, ArmStats):
            raise InvalidInput(f"{name} must be ArmStats, got {type(arm).__name__}")
        if arm.n < 2:
            raise InvalidInput(f"{name} arm needs at least 2 units, has {arm.n}")


# ------------------------------------------------------------------ frequentist


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


def _abs_moments(control: ArmStats, treatment: ArmStats) -> tuple[float, float, float]:
    """(lift, variance of the lift, Welch–Satterthwaite df)."""
    vc, vt = control.var / control.n, treatment.var / treatment.n
    var = vc + vt
    denom = vc * vc / (control.n - 1) + vt * vt / (treatment.n - 1)
    df = var * var / denom if denom > 0 else float(control.n + treatment.n - 2)
    return treatment.mean - control.mean, var, df


def _rel_moments(control: ArmStats, treatment: ArmStats) -> tuple[float, float] | None:
    """(relative lift, delta-method variance) or None when the control mean is 0."""
    mc, mt = control.mean, treatment.mean
    if mc == 0:
        return None
    var = treatment.var / (treatment.n * mc * mc) + control.var * mt * mt / (control.n * mc**4)
    return mt / mc - 1.0, var


def _t_test(est: float, var: float, df: float, alpha: float) -> tuple[float, float, float, float]:
    """(statistic, p, lo, hi) for a two-sided t test; degenerate variance handled explicitly."""
    if var <= 0:
        # Both arms constant: the difference is known exactly.
        return (
            (0.0 if est == 0 else math.copysign(math.inf, est)),
            (1.0 if est == 0 else 0.0),
            est,
            est,
        )
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
    alpha = _check_alpha(alpha)
    _check_arms(control, treatment)
    lift, var, df = _abs_moments(control, treatment)
    t, p, lo, hi = _t_test(lift, var, df, alpha)
    rel = _rel_moments(control, treatment)
    rel_lift = rel_se = rel_ci = rel_p = None
    if rel is not None:
        rel_lift, rel_var = rel
        _, rel_p, rlo, rhi = _t_test(rel_lift, rel_var, df, alpha)
        rel_se, rel_ci = math.sqrt(rel_var), (rlo, rhi)
    return Comparison(
        method="welch",
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
        statistic=t,
        df=df,
        p_value=p,
        rel_p_value=rel_p,
        significant=p < alpha,
    )


# ------------------------------------------------------------------ sequential


def sequential_rho(alpha: float = DEFAULT_ALPHA, tuning: float = DEFAULT_TUNING) -> float:
    """Mixture parameter ρ of the normal-mixture boundary, tightest at N = ``tuning`` units.

    ``ρ = sqrt( (-2 ln α + ln(1 - 2 ln α)) / n* )`` (Howard et al. 2021; GrowthBook ``rho``).
    """
    alpha = _check_alpha(alpha)
    n_star = _finite(tuning, "tuning")
    if n_star <= 0:
        raise InvalidInput(f"tuning must be > 0, got {tuning!r}")
    la = math.log(alpha)
    return math.sqrt((-2.0 * la + math.log(1.0 - 2.0 * la)) / n_star)


def _cs(est: float, var: float, n_total: int, rho: float, alpha: float) -> tuple[float, ...]:
    """(z, always-valid p, lo, hi) of the normal-mixture confidence sequence."""
    if var <= 0:
        return (
            (0.0 if est == 0 else math.copysign(math.inf, est)),
            (1.0 if est == 0 else 0.0),
            est,
            est,
        )
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
    alpha = _check_alpha(alpha)
    rho = sequential_rho(alpha, tuning)
    _check_arms(control, treatment)
    n_total = control.n + treatment.n
    lift, var, _ = _abs_moments(control, treatment)
    z, p, lo, hi = _cs(lift, var, n_total, rho, alpha)
    rel = _rel_moments(control, treatment)
    rel_lift = rel_se = rel_ci = rel_p = None
    if rel is not None:
        rel_lift, rel_var = rel
        _, rel_p, rlo, rhi = _cs(rel_lift, rel_var, n_total, rho, alpha)
        rel_se, rel_ci = math.sqrt(rel_var), (rlo, rhi)
    return Comparison(
        method="sequential",
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
        statistic=z,
        df=None,
        p_value=p,
        rel_p_value=rel_p,
        significant=lo > 0 or hi < 0,
    )


# ------------------------------------------------------------------ Bayesian


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
    alpha = _check_alpha(alpha)
    _check_arms(control, treatment)
    m0 = _finite(prior_mean, "prior_mean")
    if prior_sd is not None:
        tau = _finite(prior_sd, "prior_sd")
        if tau <= 0:
            raise InvalidInput(f"prior_sd must be > 0 (or None for a flat prior), got {prior_sd!r}")
    if relative:
        rel = _rel_moments(control, treatment)
        if rel is None:
            raise InvalidInput("relative lift is undefined: the control mean is 0")
        est, var = rel
    else:
        est, var, _ = _abs_moments(control, treatment)
    if var <= 0:  # both arms constant: the likelihood is a point mass at the estimate
        mu, sd = est, 0.0
    elif prior_sd is None:
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


# ------------------------------------------------------------------ sample ratio mismatch


@dataclass(frozen=True)
class SrmResult:
    """Chi-square goodness of fit of arm counts to the configured split."""

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    statistic: float
    df: int
    p_value: float
    threshold: float
    mismatch: bool


def srm(
    observed: Sequence[int],
    expected_weights: Sequence[float],
    threshold: float = SRM_THRESHOLD,
) -> SrmResult:
    """Sample ratio mismatch: Pearson chi-square of counts vs ``total · w / Σw``, k-1 df.

    An arm with weight 0 that received units is an outright mismatch (p = 0); arms with weight 0
    and no units are left out of the test. With no units at all there is nothing to test (p = 1).
    """
    thr = _check_alpha(threshold)
    if any(isinstance(o, bool) or not isinstance(o, int | np.integer) for o in observed):
        raise InvalidInput("observed counts must be integers")
    counts = [int(o) for o in observed]
    weights = [_finite(w, "split weight") for w in expected_weights]
    if len(counts) != len(weights):
        raise InvalidInput(f"{len(counts)} observed counts but {len(weights)} split weights")
    if len(counts) < 2:
        raise InvalidInput("sample ratio check needs at least 2 arms")
    if any(o < 0 for o in counts):
        raise InvalidInput("observed counts must be >= 0")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise InvalidInput("split weights must be >= 0 and sum to more than 0")
    total, wsum = sum(counts), sum(weights)
    expected = tuple(total * w / wsum for w in weights)
    keep = [i for i, w in enumerate(weights) if w > 0]
    if total == 0:
        chi2, p = 0.0, 1.0
    elif any(counts[i] > 0 and weights[i] == 0 for i in range(len(counts))):
        chi2, p = math.inf, 0.0
    elif len(keep) < 2:
        chi2, p = 0.0, 1.0
    else:
        chi2 = sum((counts[i] - expected[i]) ** 2 / expected[i] for i in keep)
        p = float(special.chdtrc(len(keep) - 1, chi2))
    return SrmResult(
        observed=tuple(counts),
        expected=expected,
        statistic=float(chi2),
        df=max(len(keep) - 1, 0),
        p_value=p,
        threshold=thr,
        mismatch=p < thr,
    )


# ------------------------------------------------------------------ multiple comparisons


def _check_pvalues(p_values: Sequence[float]) -> np.ndarray:
    p = np.array([_finite(v, "p-value") for v in p_values], dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise InvalidInput("p-values must lie in [0, 1]")
    return p


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni step-down adjusted p-values, in the input order."""
    p = _check_pvalues(p_values)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adj = np.maximum.accumulate(scaled)
    out = np.empty(m)
    out[order] = adj
    return [float(v) for v in out]


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg step-up adjusted p-values (FDR), in the input order."""
    p = _check_pvalues(p_values)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, p[order] * m / np.arange(1, m + 1))
    adj = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = adj
    return [float(v) for v in out]


# ------------------------------------------------------------------ power


def sample_size(
    baseline_mean: float,
    baseline_sd: float | None,
    mde: float,
    *,
    relative: bool = False,
    alpha: float = DEFAULT_ALPHA,
    power: float = 0.8,
    ratio: float = 1.0,
) -> int:
    """Units needed in the control arm to detect a lift of ``mde`` (two-sided test).

    ``baseline_sd=None`` means a proportion metric (``baseline_mean`` is p in (0, 1)); ``mde``
    is absolute, or a fraction of ``baseline_mean`` with ``relative=True``. ``ratio`` is
    n_treatment / n_control; the treatment arm needs ``ceil(ratio · n)`` (with the default
    ratio 1 the answer is per arm). Formula in the module docstring.
    """
    alpha = _check_alpha(alpha)
    pw = _finite(power, "power")
    if not 0.0 < pw < 1.0:
        raise InvalidInput(f"power must be in (0, 1), got {power!r}")
    r = _finite(ratio, "ratio")
    if r <= 0:
        raise InvalidInput(f"ratio must be > 0, got {ratio!r}")
    base = _finite(baseline_mean, "baseline_mean")
    d = _finite(mde, "mde")
    delta = d * base if relative else d
    if delta == 0:
        raise InvalidInput("mde must be non-zero (and the baseline non-zero for a relative mde)")
    if baseline_sd is None:
        p1, p2 = base, base + delta
        if not (0.0 < p1 < 1.0 and 0.0 < p2 < 1.0):
            raise InvalidInput(
                f"proportions must lie in (0, 1): baseline {p1:g}, with the lift {p2:g}"
            )
        var_c, var_t = p1 * (1 - p1), p2 * (1 - p2)
    else:
        sd = _finite(baseline_sd, "baseline_sd")
        if sd <= 0:
            raise InvalidInput(f"baseline_sd must be > 0, got {baseline_sd!r}")
        var_c = var_t = sd * sd
    z = float(special.ndtri(1.0 - alpha / 2.0) + special.ndtri(pw))
    n = z * z * (var_c + var_t / r) / (delta * delta)
    return max(2, math.ceil(n - 1e-9))


def progress(n_per_arm: int | Sequence[int], needed: int) -> float:
    """Fraction in [0, 1] of the needed sample reached (the smallest arm counts)."""
    counts = [n_per_arm] if isinstance(n_per_arm, int | np.integer) else list(n_per_arm)
    if not counts:
        raise InvalidInput("progress needs at least one arm count")
    n = min(_finite(c, "arm count") for c in counts)
    need = _finite(needed, "needed sample size")
    if n < 0 or need <= 0:
        raise InvalidInput("arm counts must be >= 0 and the needed sample size > 0")
    return min(1.0, n / need)


# ------------------------------------------------------------------ CUPED


def _pair(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ya = np.asarray(y, dtype=float).ravel()
    xa = np.asarray(x, dtype=float).ravel()
    if ya.shape != xa.shape:
        raise InvalidInput(f"metric and covariate differ in length: {ya.size} vs {xa.size}")
    if not (np.all(np.isfinite(ya)) and np.all(np.isfinite(xa))):
        raise InvalidInput("metric and covariate values must be finite")
    return ya, xa


def cuped_theta(y: np.ndarray, x: np.ndarray) -> float:
    """θ = cov(y, x) / var(x) over the given (pooled) units; 0 when x is constant."""
    ya, xa = _pair(y, x)
    if ya.size < 2:
        raise InvalidInput("CUPED needs at least 2 units")
    xc = xa - xa.mean()
    sxx = float(np.dot(xc, xc))
    return 0.0 if sxx == 0 else float(np.dot(ya - ya.mean(), xc) / sxx)


def cuped_adjust(
    y: np.ndarray, x: np.ndarray, theta: float | None = None, x_mean: float | None = None
) -> np.ndarray:
    """CUPED-adjusted values ``y - θ(x - x̄)``.

    Called on all units of all arms together (the default θ and x̄ are then pooled, as the
    module docstring explains); pass ``theta`` and ``x_mean`` to adjust one arm with pooled
    values computed elsewhere.
    """
    ya, xa = _pair(y, x)
    th = cuped_theta(ya, xa) if theta is None else _finite(theta, "theta")
    xm = float(xa.mean()) if x_mean is None else _finite(x_mean, "x_mean")
    return ya - th * (xa - xm)


def cuped_arms(ys: Sequence[np.ndarray], xs: Sequence[np.ndarray]) -> tuple[list[ArmStats], float]:
    """Per-arm ArmStats of CUPED-adjusted values with θ and x̄ pooled over all arms.

    Returns (adjusted stats per arm in input order, θ). Feed the stats to ``welch`` etc.
    """
    if len(ys) != len(xs) or not ys:
        raise InvalidInput("CUPED needs one covariate array per metric array")
    pairs = [_pair(y, x) for y, x in zip(ys, xs, strict=True)]
    y_all = np.concatenate([p[0] for p in pairs])
    x_all = np.concatenate([p[1] for p in pairs])
    theta = cuped_theta(y_all, x_all)
    x_mean = float(x_all.mean())
    arms = [ArmStats.from_values(y - theta * (x - x_mean)) for y, x in pairs]
    return arms, theta


@dataclass(frozen=True)
class PairStats:
    """Sufficient statistics of (metric y, pre-period covariate x) over one arm's units.

    All six are plain SQL aggregates: ``count(*), sum(y), sum(y*y), sum(x), sum(x*x), sum(x*y)``.
    """

    n: int
    sum_y: float
    sum_y2: float
    sum_x: float
    sum_x2: float
    sum_xy: float

    def __post_init__(self) -> None:
        ArmStats(self.n, self.sum_y, self.sum_y2)  # validates n and the y sums
        ArmStats(self.n, self.sum_x, self.sum_x2)
        object.__setattr__(self, "n", int(self.n))
        for name in ("sum_y", "sum_y2", "sum_x", "sum_x2", "sum_xy"):
            object.__setattr__(self, name, _finite(getattr(self, name), name))

    @classmethod
    def from_values(cls, y: np.ndarray, x: np.ndarray) -> PairStats:
        """Sufficient statistics of paired raw values."""
        ya, xa = _pair(y, x)
        return cls(
            n=int(ya.size),
            sum_y=float(ya.sum()),
            sum_y2=float(np.dot(ya, ya)),
            sum_x=float(xa.sum()),
            sum_x2=float(np.dot(xa, xa)),
            sum_xy=float(np.dot(xa, ya)),
        )


def cuped_stats(arms: Sequence[PairStats]) -> tuple[list[ArmStats], float]:
    """``cuped_arms`` from sums alone: adjusted ArmStats per arm and the pooled θ.

    With pooled ``θ = (Σxy - ΣxΣy/N) / (Σx² - (Σx)²/N)`` and ``x̄ = Σx/N`` over all arms, each
    arm's adjusted values ``y' = y - θ(x - x̄)`` have ``Σy' = Σy - θ(Σx - n·x̄)`` and
    ``Σy'² = Σy² - 2θ(Σxy - x̄Σy) + θ²(Σx² - 2x̄Σx + n·x̄²)`` (expanding the square).
    """
    if not arms or not all(isinstance(a, PairStats) for a in arms):
        raise InvalidInput("CUPED needs PairStats for at least one arm")
    n = sum(a.n for a in arms)
    if n < 2:
        raise InvalidInput("CUPED needs at least 2 units")
    sx = sum(a.sum_x for a in arms)
    sy = sum(a.sum_y for a in arms)
    sxx = sum(a.sum_x2 for a in arms) - sx * sx / n
    sxy = sum(a.sum_xy for a in arms) - sx * sy / n
    theta = 0.0 if sxx <= 0 else sxy / sxx
    xm = sx / n
    out = []
    for a in arms:
        s1 = a.sum_y - theta * (a.sum_x - a.n * xm)
        sxc2 = a.sum_x2 - 2 * xm * a.sum_x + a.n * xm * xm
        s2 = a.sum_y2 - 2 * theta * (a.sum_xy - xm * a.sum_y) + theta * theta * sxc2
        out.append(ArmStats(a.n, s1, max(s2, s1 * s1 / a.n if a.n else 0.0)))
    return out, theta
