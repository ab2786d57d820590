"""Reference vs current distribution of one feature, ready to draw side by side.

Pure functions over arrays and counts (no I/O): numeric values are binned on common
equal-width edges; categories are ranked and the tail folded into `OTHER`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from core.errors import InvalidInput

OTHER = "__other__"
"""The profile's name for every category beyond the ones it kept (and ours for the tail)."""

TAIL = 0.005
"""Each side's most extreme 0.5% on either end are not allowed to stretch the range."""


def numeric_histogram(
    reference: np.ndarray, current: np.ndarray, bins: int = 20
) -> tuple[list[float], list[float], list[float]]:
    """(edges, reference shares, current shares) on `bins` equal-width bins.

    The edges span both sides' values from their 0.5th to their 99.5th percentile (linear
    interpolation), so one wild value cannot squash the chart; the first and last bins also
    hold the values beyond the edges. Bins are right-open except the last. A side with no
    values gets an empty list of shares; with no values at all the edges are empty too. When
    every value is the same number c, there is one bin [c - 0.5, c + 0.5].
    """
    if bins < 1:
        raise InvalidInput(f"bins must be at least 1, got {bins}")
    ref = _finite(reference)
    cur = _finite(current)
    sides = [a for a in (ref, cur) if len(a)]
    if not sides:
        return [], [], []
    lo = min(float(np.quantile(a, TAIL)) for a in sides)
    hi = max(float(np.quantile(a, 1 - TAIL)) for a in sides)
    if not hi > lo:
        # A constant (or nearly: every value between the tails is one number).
        lo = min(float(a.min()) for a in sides)
        hi = max(float(a.max()) for a in sides)
    edges = np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo - 0.5, lo + 0.5])
    return [float(e) for e in edges], _shares_in(ref, edges), _shares_in(cur, edges)


def _finite(values: np.ndarray) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    return a[np.isfinite(a)]


def _shares_in(values: np.ndarray, edges: np.ndarray) -> list[float]:
    if len(values) == 0:
        return []
    # Interior edges only: values below the first edge land in the first bin, beyond the last
    # in the last one; a value equal to an interior edge starts the bin on its right.
    index = np.searchsorted(edges[1:-1], values, side="right")
    counts = np.bincount(index, minlength=len(edges) - 1)
    return [float(c) / len(values) for c in counts]


def category_shares(
    reference: Mapping[str, float], current: Mapping[str, int], top: int = 15
) -> tuple[list[str], list[float], list[float]]:
    """(categories, reference shares, current shares) over the same categories.

    `reference` is the profile's `{category: share}` (it may already hold `OTHER`);
    `current` is `{category: count}`. The `top` categories by the larger of their two shares
    are kept (ties by name), the rest fold into `OTHER`, listed last when it is not empty on
    either side. A side with nothing gets an empty list of shares.
    """
    if top < 1:
        raise InvalidInput(f"top must be at least 1, got {top}")
    total = sum(current.values())
    ref_total = sum(reference.values())
    ref = {k: v / ref_total for k, v in reference.items()} if ref_total > 0 else {}
    cur = {k: c / total for k, c in current.items()} if total > 0 else {}
    names = sorted((set(ref) | set(cur)) - {OTHER})
    names.sort(key=lambda k: -max(ref.get(k, 0.0), cur.get(k, 0.0)))
    kept = names[:top]
    categories = list(kept)
    ref_rest = 1.0 - sum(ref.get(k, 0.0) for k in kept) if ref else 0.0
    cur_rest = 1.0 - sum(cur.get(k, 0.0) for k in kept) if cur else 0.0
    has_other = ref_rest > 1e-12 or cur_rest > 1e-12
    if has_other:
        categories.append(OTHER)

    def shares(side: dict[str, float], rest: float) -> list[float]:
        if not side:
            return []
        out = [side.get(k, 0.0) for k in kept]
        return [*out, max(rest, 0.0)] if has_other else out

    return categories, shares(ref, ref_rest), shares(cur, cur_rest)
