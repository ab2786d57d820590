"""Per-arm sufficient statistics (n, mean, M2) and the check that two arms can be compared."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import SupportsIndex, cast

import numpy as np

from core.errors import InvalidInput
from core.stats.abtest.inputs import finite


def _count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise InvalidInput(f"arm count n must be an integer, got {n!r}")
    if n < 0:
        raise InvalidInput(f"arm count n must be >= 0, got {n}")
    return int(cast(SupportsIndex, n))  # numpy leaves np.integer's parameter unknown


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
    them), ``from_centred`` (n, mean, M2 as given) and ``merge`` (Chan, Golub & LeVeque's
    pairwise update for partial aggregates).
    ``m1`` is 0 for an empty arm, whose ``mean`` is NaN.
    """

    n: int
    m1: float
    m2: float

    def __init__(self, n: int, sum: float, sum_sq: float) -> None:
        count = _count(n)
        s = finite(sum, "arm sum")
        q = finite(sum_sq, "arm sum of squares")
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
    def from_centred(cls, n: int, mean: float, m2: float) -> ArmStats:
        """Statistics from a count, mean and M2 as they are (checked, not recomputed): how
        the other constructors, and CUPED's adjusted moments, build one."""
        count = _count(n)
        m = finite(mean, "mean") if count else 0.0
        d = finite(m2, "sum of squared deviations") if count > 1 else 0.0
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
            return cls.from_centred(0, 0.0, 0.0)
        mean = float(arr.mean())
        dev = arr - mean
        # The second term removes what rounding left in the mean (Chan, Golub & LeVeque 1983).
        s = float(dev.sum())
        return cls.from_centred(
            arr.size, mean + s / arr.size, max(0.0, float(dev @ dev) - s * s / arr.size)
        )

    @classmethod
    def from_moments(cls, n: int, mean: float, var: float) -> ArmStats:
        """Statistics from a count, mean and sample variance (ddof=1)."""
        m, v = finite(mean, "mean"), finite(var, "variance")
        if v < 0:
            raise InvalidInput(f"variance must be >= 0, got {var!r}")
        count = _count(n)
        return cls.from_centred(count, m, (count - 1) * v if count > 1 else 0.0)

    @classmethod
    def from_shifted_sums(cls, n: int, shift: float, sum: float, sum_sq: float) -> ArmStats:
        """Statistics from ``Σ(x - c)`` and ``Σ(x - c)²`` for a shift ``c``.

        Exact to rounding when ``c`` is close to the mean (the group's own mean, say): the
        cancellation of the raw-sum formula grows with ``(mean - c)² / variance``.
        """
        count = _count(n)
        c, s, q = (
            finite(shift, "shift"),
            finite(sum, "shifted sum"),
            finite(sum_sq, "shifted sum of squares"),
        )
        if q < 0:
            raise InvalidInput(f"shifted sum of squares must be >= 0, got {sum_sq!r}")
        if count == 0:
            return cls.from_centred(0, 0.0, 0.0)
        return cls.from_centred(count, c + s / count, max(0.0, q - s * s / count))

    def merge(self, other: ArmStats) -> ArmStats:
        """Statistics of the two groups' values together (Chan et al.'s pairwise formula:
        ``M2 = M2_a + M2_b + δ²·n_a·n_b/n`` with ``δ`` the difference of the means)."""
        # Checked although typed: callers outside the type checker may pass anything.
        if not isinstance(cast(object, other), ArmStats):
            raise InvalidInput(f"can only merge ArmStats, got {type(other).__name__}")
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.m1 - self.m1
        mean = self.m1 + delta * other.n / n
        return ArmStats.from_centred(
            n, mean, self.m2 + other.m2 + delta * delta * self.n * other.n / n
        )

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


def check_arms(control: ArmStats, treatment: ArmStats) -> None:
    """Both arms are ArmStats with a variance, i.e. at least 2 units each."""
    for name, arm in (("control", control), ("treatment", treatment)):
        if not isinstance(cast(object, arm), ArmStats):
            raise InvalidInput(f"{name} must be ArmStats, got {type(arm).__name__}")
        if arm.n < 2:
            raise InvalidInput(f"{name} arm needs at least 2 units, has {arm.n}")
