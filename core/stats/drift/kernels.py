"""Drift statistics over arrays: KS and Wasserstein from one merge of sorted values, the
KS p-value, PSI, Jensen–Shannon, chi-square and the two-proportion z-test."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import numpy as np
from scipy import special

PSI_EPSILON = 1e-4
KS_EXACT_MAX_N = 10_000  # scipy's MAX_AUTO_N: "auto" is exact when max(n1, n2) <= this

ExactKS = Callable[[int, int, int, float, str], tuple[bool, float, float]]
"""scipy's private `_attempt_exact_2kssamp(n1, n2, gcd, d, alternative)` -> (ok, d, p)."""


def merge_ks_wasserstein(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """(KS statistic, Wasserstein-1 distance) of two sorted, finite, non-empty arrays.

    One merge: each current value's rank in the reference gives its position in the merged
    order; the cumulative reference count along that order is both ECDFs at once.
    """
    n1, n2 = len(ref), len(cur)
    n = n1 + n2
    # Reference values tied with a current value go first (side="right"): order within ties
    # does not matter for either statistic, as explained below.
    pos_cur = np.searchsorted(ref, cur, side="right") + np.arange(n2)
    is_ref = np.ones(n, dtype=np.int64)
    is_ref[pos_cur] = 0
    merged = np.empty(n, dtype=np.float64)
    merged[pos_cur] = cur
    merged[is_ref.astype(bool)] = ref
    ref_seen = np.cumsum(is_ref)
    cur_seen = np.arange(1, n + 1) - ref_seen
    diff = ref_seen / n1 - cur_seen / n2
    # ECDFs are right-continuous: only the last element of a run of equal values is a point
    # where both are evaluated (scipy searches with side="right").
    ends = np.empty(n, dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=ends[:-1])
    ends[-1] = True
    d = float(np.max(np.abs(diff[ends])))
    # Between ties the gap is 0, so partial counts inside a run of ties weigh nothing.
    w = float(np.sum(np.abs(diff[:-1]) * np.diff(merged)))
    return d, w


def ks_pvalue(d: float, n1: int, n2: int) -> tuple[float, float]:
    """(statistic, p-value) as scipy's two-sided `ks_2samp(method="auto")` reports them.

    In the exact regime scipy rounds the statistic to the lattice of the two ECDFs (h / lcm).
    """
    if max(n1, n2) <= KS_EXACT_MAX_N:
        try:
            from scipy.stats._stats_py import (
                _attempt_exact_2kssamp,  # pyright: ignore[reportAttributeAccessIssue, reportUnknownVariableType]  # private: scipy-stubs omit it
            )
        except ImportError:  # pragma: no cover - a future scipy moved it: use the asymptotic
            pass
        else:
            exact = cast(ExactKS, _attempt_exact_2kssamp)
            ok, d_exact, prob = exact(n1, n2, math.gcd(n1, n2), d, "two-sided")
            if ok:
                return float(d_exact), float(min(max(prob, 0.0), 1.0))
    from scipy.stats import kstwo

    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return d, float(min(max(kstwo.sf(d, np.round(en)), 0.0), 1.0))


def psi(ref_shares: np.ndarray, cur_shares: np.ndarray, eps: float = PSI_EPSILON) -> float:
    """Population stability index; zero shares are replaced by `eps`."""
    p = np.where(ref_shares > 0, ref_shares, eps)
    q = np.where(cur_shares > 0, cur_shares, eps)
    return float(np.sum((q - p) * np.log(q / p)))


def binned_counts(cur: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of sorted `cur` in the profile's bins, the end bins open to +-inf."""
    if len(edges) < 2:
        return np.array([len(cur)])
    inner = np.searchsorted(cur, edges[1:-1], side="left")
    return np.diff(np.concatenate(([0], inner, [len(cur)])))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon distance with natural logs (scipy's `jensenshannon` default)."""
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    return float(math.sqrt(max(float(np.sum(left) + np.sum(right)) / 2.0, 0.0)))


def chi_square(observed: np.ndarray, ref_shares: np.ndarray) -> tuple[float, float]:
    """Goodness of fit of current counts against reference shares (`scipy.stats.chisquare`
    with expected = share x current total). A count where the reference has none -> inf, p 0."""
    expected = ref_shares / ref_shares.sum() * observed.sum()
    if np.any((expected == 0) & (observed > 0)):
        return math.inf, 0.0
    keep = expected > 0
    stat = float(np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep]))
    dof = int(np.count_nonzero(keep)) - 1
    if dof < 1:
        return 0.0, 1.0
    return stat, float(special.chdtrc(dof, stat))


def two_proportion_z(p1: float, n1: int, p2: float, n2: int) -> tuple[float, float]:
    """Evidently's two-proportion z-test (pooled variance), two-sided."""
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2)
    if var <= 0:
        return 0.0, 1.0
    z = (p1 - p2) / math.sqrt(var)
    return float(z), float(2 * special.ndtr(-abs(z)))
