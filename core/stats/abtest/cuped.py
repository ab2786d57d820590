"""Variance reduction with a pre-period covariate.

for a proportion ``σ_c² = p(1-p)`` and ``σ_t² = (p+δ)(1-p-δ)``; for a mean both σ are
``baseline_sd``. (Chow, Shao & Wang, *Sample Size Calculations in Clinical Research*, §4.2.)

``cuped_adjust`` / ``cuped_arms``
CUPED (Deng, Xu, Kohavi & Walker 2013): ``y' = y - θ(x - x̄)`` with
``θ = cov(y, x)/var(x)`` and ``x̄`` computed over all units of all arms pooled; randomisation
makes ``x`` independent of assignment, so the pooled θ leaves the difference in means
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from core.errors import InvalidInput
from core.stats.abtest.arms import ArmStats
from core.stats.abtest.inputs import finite


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
    th = cuped_theta(ya, xa) if theta is None else finite(theta, "theta")
    xm = float(xa.mean()) if x_mean is None else finite(x_mean, "x_mean")
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
        sxy = finite(sum_xy, "sum_xy")
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
        return ArmStats.from_centred(self.n, self.mean_y, self.m2_y)

    @property
    def x(self) -> ArmStats:
        """The covariate's own statistics."""
        return ArmStats.from_centred(self.n, self.mean_x, self.m2_x)

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
    # Checked although typed: callers outside the type checker may pass anything.
    if not arms or not all(isinstance(cast(object, a), PairStats) for a in arms):
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
        ArmStats.from_centred(
            a.n,
            a.mean_y - theta * (a.mean_x - xm),
            max(0.0, a.m2_y - 2 * theta * a.c_xy + theta * theta * a.m2_x),
        )
        for a in arms
    ]
    return out, theta
