"""A/B test statistics: pure functions over per-arm sufficient statistics (n, mean, M2).

Nothing here does I/O; the per-arm statistics come from DuckDB as sums shifted by each group's
own mean (``count(x), sum(x - c), sum((x - c)²)``), merged across groups with Chan et al.'s
pairwise formula. Never from raw ``Σx²``: for values of 100,000 ± 1 the raw-sum variance is
off by 1e-5 to 1e-4 (relative), the centred one matches numpy to ~1e-14. A proportion metric
(accuracy, error rate, conversion) is the same as a mean metric over 0/1 values, so one code
path serves both. Conventions used throughout:

- *control* is the baseline arm, *treatment* the challenger; the absolute lift is
  ``mean_t - mean_c`` and the relative lift is ``mean_t / mean_c - 1``. Larger is "better" in
  the Bayesian summaries; for a lower-is-better metric (latency, error rate) read
  ``chance_to_beat`` as the chance that the treatment is *higher*, i.e. worse.
- variances are sample variances (ddof=1): ``s² = M2 / (n - 1)``, ``M2 = Σ(x - x̄)²``.
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
    Microsoft ExP / Fabijan et al. 2019 convention). ``srm_periods``: when the split changed,
    each period's counts against that period's split, the statistics and dfs summed.

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
    ``cuped_stats`` does the same from per-arm centred moments (``PairStats``), no raw values
    needed.
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
    "srm_periods",
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


def _count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise InvalidInput(f"arm count n must be an integer, got {n!r}")
    if n < 0:
        raise InvalidInput(f"arm count n must be >= 0, got {n}")
    return int(n)


@dataclass(frozen=True, init=False)
class ArmStats:
    """Sufficient statistics of one arm's unit values: count ``n``, mean ``m1`` and
    ``m2 = Σ(x - mean)²``, the sum of squared deviations.

    ``ArmStats(n, sum, sum_sq)`` takes the raw sums (count, Σx, Σx²) and ``sum``/``sum_sq``
    read them back, but the state is (n, mean, M2): a variance taken from raw sums,
    ``(Σx² - (Σx)²/n)/(n-1)``, cancels catastrophically when the mean is large beside the
    spread (100,000 ± 1: relative error ~1e-4). The other constructors are exact to rounding:
    ``from_values`` (corrected two-pass), ``from_moments`` (n, mean, variance),
    ``from_shifted_sums`` (sums of ``x - c`` for a shift ``c`` near the mean, as SQL computes
    them) and ``merge`` (Chan, Golub & LeVeque's pairwise update for partial aggregates).
    ``m1`` is 0 for an empty arm, whose ``mean`` is NaN.
    """

    n: int
    m1: float
    m2: float

    def __init__(self, n: int, sum: float, sum_sq: float) -> None:
        count = _count(n)
        s = _finite(sum, "arm sum")
        q = _finite(sum_sq, "arm sum of squares")
        if q < 0:
            raise InvalidInput(f"arm sum of squares must be >= 0, got {sum_sq}")
        # Cauchy–Schwarz: (Σx)² <= n·Σx²; allow rounding error from the SQL aggregation.
        if s * s > count * q * (1 + 1e-9) + 1e-9:
            raise InvalidInput("arm sums are inconsistent: (sum)² exceeds n · sum of squares")
        mean = s / count if count else 0.0
        self._set(count, mean, max(0.0, q - s * mean) if count > 1 else 0.0)

    def _set(self, n: int, m1: float, m2: float) -> None:
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "m1", m1)
        object.__setattr__(self, "m2", m2)

    @classmethod
    def _exact(cls, n: int, mean: float, m2: float) -> ArmStats:
        count = _count(n)
        m = _finite(mean, "mean") if count else 0.0
        d = _finite(m2, "sum of squared deviations") if count > 1 else 0.0
        if d < 0:
            raise InvalidInput(f"sum of squared deviations must be >= 0, got {m2!r}")
        out = cls.__new__(cls)
        out._set(count, m, d)
        return out

    @classmethod
    def from_values(cls, values: Sequence[float] | np.ndarray) -> ArmStats:
        """Statistics of raw unit values (0/1 values for a proportion)."""
        arr = np.asarray(values, dtype=float).ravel()
        if arr.size and not np.all(np.isfinite(arr)):
            raise InvalidInput("arm values must be finite numbers")
        if arr.size == 0:
            return cls._exact(0, 0.0, 0.0)
        mean = float(arr.mean())
        dev = arr - mean
        # The second term removes what rounding left in the mean (Chan, Golub & LeVeque 1983).
        s = float(dev.sum())
        return cls._exact(
            arr.size, mean + s / arr.size, max(0.0, float(dev @ dev) - s * s / arr.size)
        )

    @classmethod
    def from_moments(cls, n: int, mean: float, var: float) -> ArmStats:
        """Statistics from a count, mean and sample variance (ddof=1)."""
        m, v = _finite(mean, "mean"), _finite(var, "variance")
        if v < 0:
            raise InvalidInput(f"variance must be >= 0, got {var!r}")
        count = _count(n)
        return cls._exact(count, m, (count - 1) * v if count > 1 else 0.0)

    @classmethod
    def from_shifted_sums(cls, n: int, shift: float, sum: float, sum_sq: float) -> ArmStats:
        """Statistics from ``Σ(x - c)`` and ``Σ(x - c)²`` for a shift ``c``.

        Exact to rounding when ``c`` is close to the mean (the group's own mean, say): the
        cancellation of the raw-sum formula grows with ``(mean - c)² / variance``.
        """
        count = _count(n)
        c, s, q = (
            _finite(shift, "shift"),
            _finite(sum, "shifted sum"),
            _finite(sum_sq, "shifted sum of squares"),
        )
        if q < 0:
            raise InvalidInput(f"shifted sum of squares must be >= 0, got {sum_sq!r}")
        if count == 0:
            return cls._exact(0, 0.0, 0.0)
        return cls._exact(count, c + s / count, max(0.0, q - s * s / count))

    def merge(self, other: ArmStats) -> ArmStats:
        """Statistics of the two groups' values together (Chan et al.'s pairwise formula:
        ``M2 = M2_a + M2_b + δ²·n_a·n_b/n`` with ``δ`` the difference of the means)."""
        if not isinstance(other, ArmStats):
            raise InvalidInput(f"can only merge ArmStats, got {type(other).__name__}")
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.m1 - self.m1
        mean = self.m1 + delta * other.n / n
        return ArmStats._exact(n, mean, self.m2 + other.m2 + delta * delta * self.n * other.n / n)

    @property
    def sum(self) -> float:
        """Σx = n·mean."""
        return self.n * self.m1

    @property
    def sum_sq(self) -> float:
        """Σx² = M2 + n·mean² (for reading back; the variance never goes through it)."""
        return self.m2 + self.n * self.m1 * self.m1

    @property
    def mean(self) -> float:
        """Sample mean (NaN for an empty arm)."""
        return self.m1 if self.n else math.nan

    @property
    def var(self) -> float:
        """Sample variance with ddof=1, M2/(n - 1) (NaN when n < 2)."""
        if self.n < 2:
            return math.nan
        return self.m2 / (self.n - 1)


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
    """Chi-square goodness of fit of arm counts to the configured split.

    ``observed``/``expected`` are per arm, summed over the periods when there are several;
    ``statistic`` and ``df`` are the sums of the periods' own.
    """

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    statistic: float
    df: int
    p_value: float
    threshold: float
    mismatch: bool


def _srm_counts(observed: Sequence[int], weights: Sequence[float]) -> tuple[list[int], list[float]]:
    if any(isinstance(o, bool) or not isinstance(o, int | np.integer) for o in observed):
        raise InvalidInput("observed counts must be integers")
    counts = [int(o) for o in observed]
    ws = [_finite(w, "split weight") for w in weights]
    if len(counts) != len(ws):
        raise InvalidInput(f"{len(counts)} observed counts but {len(ws)} split weights")
    if len(counts) < 2:
        raise InvalidInput("sample ratio check needs at least 2 arms")
    if any(o < 0 for o in counts):
        raise InvalidInput("observed counts must be >= 0")
    if any(w < 0 for w in ws) or sum(ws) <= 0:
        raise InvalidInput("split weights must be >= 0 and sum to more than 0")
    return counts, ws


def srm(
    observed: Sequence[int],
    expected_weights: Sequence[float],
    threshold: float = SRM_THRESHOLD,
) -> SrmResult:
    """Sample ratio mismatch: Pearson chi-square of counts vs ``total · w / Σw``, k-1 df.

    An arm with weight 0 that received units is an outright mismatch (p = 0); arms with weight 0
    and no units are left out of the test. With no units at all there is nothing to test (p = 1).
    """
    return srm_periods([observed], [expected_weights], threshold)


def srm_periods(
    observed: Sequence[Sequence[int]],
    weights: Sequence[Sequence[float]],
    threshold: float = SRM_THRESHOLD,
) -> SrmResult:
    """Sample ratio mismatch over periods with different splits, each against its own.

    ``observed[p][i]`` counts the units arm ``i`` received in period ``p``, ``weights[p]`` is
    that period's split. Given each period's total, the periods' counts are independent
    multinomials, so the sum of their Pearson statistics is chi-square with the sum of their
    degrees of freedom (``k_p - 1`` over the arms with weight > 0). A mismatch in one period
    cannot be hidden by an opposite one in another, as it can when counts are pooled. Periods
    without units add nothing (with no units at all, p = 1); one period is exactly ``srm``.
    """
    thr = _check_alpha(threshold)
    if len(observed) != len(weights):
        raise InvalidInput(f"{len(observed)} periods of counts but {len(weights)} of weights")
    if not observed:
        raise InvalidInput("sample ratio check needs at least one period")
    checked = [_srm_counts(o, w) for o, w in zip(observed, weights, strict=True)]
    k = len(checked[0][0])
    if any(len(c) != k for c, _ in checked):
        raise InvalidInput("every period needs the same arms")
    totals = [0] * k
    expected = [0.0] * k
    chi2, df, outright = 0.0, 0, False
    for counts, ws in checked:
        total, wsum = sum(counts), sum(ws)
        exp = [total * w / wsum for w in ws]
        keep = [i for i, w in enumerate(ws) if w > 0]
        for i in range(k):
            totals[i] += counts[i]
            expected[i] += exp[i]
        if total == 0:
            continue
        outright = outright or any(counts[i] > 0 and ws[i] == 0 for i in range(k))
        if len(keep) >= 2:
            chi2 += sum((counts[i] - exp[i]) ** 2 / exp[i] for i in keep)
            df += len(keep) - 1
    if outright:
        chi2, p = math.inf, 0.0
    elif df == 0:
        p = 1.0
    else:
        p = float(special.chdtrc(df, chi2))
    return SrmResult(
        observed=tuple(totals),
        expected=tuple(expected),
        statistic=float(chi2),
        df=df,
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


@dataclass(frozen=True, init=False)
class PairStats:
    """Sufficient statistics of (metric y, pre-period covariate x) over one arm's units.

    ``PairStats(n, sum_y, sum_y2, sum_x, sum_x2, sum_xy)`` takes the six plain SQL aggregates
    (``count(*), sum(y), sum(y*y), sum(x), sum(x*x), sum(x*y)``), which the properties of the
    same names read back; the state is centred, as in ``ArmStats``: the means, ``m2_y``,
    ``m2_x`` and the co-moment ``c_xy = Σ(x - x̄)(y - ȳ)``, exact when built ``from_values``.
    """

    n: int
    mean_y: float
    mean_x: float
    m2_y: float
    m2_x: float
    c_xy: float

    def __init__(
        self, n: int, sum_y: float, sum_y2: float, sum_x: float, sum_x2: float, sum_xy: float
    ) -> None:
        y = ArmStats(n, sum_y, sum_y2)  # validates n and the y sums
        x = ArmStats(n, sum_x, sum_x2)
        sxy = _finite(sum_xy, "sum_xy")
        self._set(y, x, sxy - x.m1 * y.sum if y.n > 1 else 0.0)

    def _set(self, y: ArmStats, x: ArmStats, c_xy: float) -> None:
        for name, value in (("n", y.n), ("mean_y", y.m1), ("mean_x", x.m1), ("m2_y", y.m2),
                            ("m2_x", x.m2), ("c_xy", c_xy)):  # fmt: skip
            object.__setattr__(self, name, value)

    @classmethod
    def from_values(cls, y: np.ndarray, x: np.ndarray) -> PairStats:
        """Statistics of paired raw values (two-pass: exact to rounding)."""
        ya, xa = _pair(y, x)
        out = cls.__new__(cls)
        ys, xs = ArmStats.from_values(ya), ArmStats.from_values(xa)
        c = float((ya - ys.m1) @ (xa - xs.m1)) if ya.size > 1 else 0.0
        out._set(ys, xs, c)
        return out

    @property
    def y(self) -> ArmStats:
        """The metric's own statistics."""
        return ArmStats._exact(self.n, self.mean_y, self.m2_y)

    @property
    def x(self) -> ArmStats:
        """The covariate's own statistics."""
        return ArmStats._exact(self.n, self.mean_x, self.m2_x)

    @property
    def sum_y(self) -> float:
        return self.y.sum

    @property
    def sum_y2(self) -> float:
        return self.y.sum_sq

    @property
    def sum_x(self) -> float:
        return self.x.sum

    @property
    def sum_x2(self) -> float:
        return self.x.sum_sq

    @property
    def sum_xy(self) -> float:
        return self.c_xy + self.n * self.mean_x * self.mean_y


def cuped_stats(arms: Sequence[PairStats]) -> tuple[list[ArmStats], float]:
    """``cuped_arms`` from per-arm statistics alone: adjusted ArmStats per arm and pooled θ.

    Pooled over all arms (Chan et al.'s merge of centred moments, ``N = Σn``, ``x̄``, ``ȳ`` the
    pooled means): ``M2_x = Σ M2_x,a + Σ n_a(x̄_a - x̄)²`` and
    ``C_xy = Σ C_xy,a + Σ n_a(x̄_a - x̄)(ȳ_a - ȳ)``, ``θ = C_xy / M2_x``. Each arm's adjusted
    values ``y' = y - θ(x - x̄)`` have mean ``ȳ_a - θ(x̄_a - x̄)`` and
    ``M2' = M2_y,a - 2θ·C_xy,a + θ²·M2_x,a`` (expanding the square of centred values).
    """
    if not arms or not all(isinstance(a, PairStats) for a in arms):
        raise InvalidInput("CUPED needs PairStats for at least one arm")
    n = sum(a.n for a in arms)
    if n < 2:
        raise InvalidInput("CUPED needs at least 2 units")
    xm = sum(a.n * a.mean_x for a in arms) / n
    ym = sum(a.n * a.mean_y for a in arms) / n
    sxx = sum(a.m2_x + a.n * (a.mean_x - xm) ** 2 for a in arms)
    sxy = sum(a.c_xy + a.n * (a.mean_x - xm) * (a.mean_y - ym) for a in arms)
    theta = 0.0 if sxx <= 0 else sxy / sxx
    out = [
        ArmStats._exact(
            a.n,
            a.mean_y - theta * (a.mean_x - xm),
            max(0.0, a.m2_y - 2 * theta * a.c_xy + theta * theta * a.m2_x),
        )
        for a in arms
    ]
    return out, theta
