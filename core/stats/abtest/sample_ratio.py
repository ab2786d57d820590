"""Sample ratio mismatch.

``E[max(0, X)] = σφ(μ/σ) + μΦ(μ/σ)``; equal-tailed credible interval ``μ ± z_{1-α/2}σ``.

``srm``
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from scipy import special  # not scipy.stats: a second of import time the console waits for

from core.errors import InvalidInput
from core.stats.abtest.inputs import SRM_THRESHOLD, check_alpha, finite


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
    # Checked although typed: callers outside the type checker may pass anything.
    if any(
        isinstance(o, bool) or not isinstance(cast(object, o), int | np.integer) for o in observed
    ):
        raise InvalidInput("observed counts must be integers")
    counts = [int(o) for o in observed]
    ws = [finite(w, "split weight") for w in weights]
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
    thr = check_alpha(threshold)
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
