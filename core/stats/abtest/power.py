"""Sample size and progress towards it.

``adj_(i) = min_{j>=i} min(1, m/j · p_(j))``. Both returned in the input order (the same as
statsmodels ``multipletests(method="holm" | "fdr_bh")``).

``sample_size``
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special  # not scipy.stats: a second of import time the console waits for

from core.errors import InvalidInput
from core.stats.abtest.inputs import DEFAULT_ALPHA, check_alpha, finite


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
    alpha = check_alpha(alpha)
    pw = finite(power, "power")
    if not 0.0 < pw < 1.0:
        raise InvalidInput(f"power must be in (0, 1), got {power!r}")
    r = finite(ratio, "ratio")
    if r <= 0:
        raise InvalidInput(f"ratio must be > 0, got {ratio!r}")
    base = finite(baseline_mean, "baseline_mean")
    d = finite(mde, "mde")
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
        sd = finite(baseline_sd, "baseline_sd")
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
    n = min(finite(c, "arm count") for c in counts)
    need = finite(needed, "needed sample size")
    if n < 0 or need <= 0:
        raise InvalidInput("arm counts must be >= 0 and the needed sample size > 0")
    return min(1.0, n / need)
