"""Adjusted p-values for several metrics or arms.

Microsoft ExP / Fabijan et al. 2019 convention). ``srm_periods``: when the split changed,
each period's counts against that period's split, the statistics and dfs summed.

``holm`` / ``benjamini_hochberg``
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.errors import InvalidInput
from core.stats.abtest.inputs import finite


def _check_pvalues(p_values: Sequence[float]) -> np.ndarray:
    p = np.array([finite(v, "p-value") for v in p_values], dtype=float)
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
