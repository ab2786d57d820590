"""The A/B and drift statistics against statsmodels (a test-only dependency)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from core.stats.abtest import ArmStats, benjamini_hochberg, holm, sample_size, welch
from core.stats.drift import two_proportion_z

RNG = np.random.default_rng(20261126)


@pytest.mark.parametrize("size", [2, 5, 12, 40])
def test_holm_and_bh_equal_multipletests(size: int) -> None:
    for _ in range(20):
        p = RNG.uniform(0, 0.2, size).tolist()
        assert holm(p) == pytest.approx(multipletests(p, method="holm")[1].tolist(), abs=1e-12)
        assert benjamini_hochberg(p) == pytest.approx(
            multipletests(p, method="fdr_bh")[1].tolist(), abs=1e-12
        )


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"), [(120, 1000, 150, 1000), (33, 400, 20, 380), (5, 50, 5, 50)]
)
def test_two_proportion_z_equals_proportions_ztest(x1: int, n1: int, x2: int, n2: int) -> None:
    z, p = two_proportion_z(x1 / n1, n1, x2 / n2, n2)
    z_ref, p_ref = proportions_ztest([x1, x2], [n1, n2])
    assert z == pytest.approx(z_ref, abs=1e-6) and p == pytest.approx(p_ref, abs=1e-6)


@pytest.mark.parametrize(
    ("sd", "delta", "ratio"), [(1.0, 0.5, 1.0), (2.0, 0.3, 1.0), (1.0, 0.2, 2.0)]
)
def test_sample_size_agrees_with_normal_power(sd: float, delta: float, ratio: float) -> None:
    """Equal variances: n = (z_a/2 + z_b)^2 (1 + 1/ratio) sd^2 / delta^2, the formula
    statsmodels solves (it also counts the far tail, negligible here)."""
    ours = sample_size(10.0, sd, delta, alpha=0.05, power=0.8, ratio=ratio)
    ref = NormalIndPower().solve_power(effect_size=delta / sd, alpha=0.05, power=0.8, ratio=ratio)
    assert abs(ours - math.ceil(ref)) <= 1


def test_large_mean_welch_equals_compare_means() -> None:
    """Values of 100,000 ± 1 (issue #18): variance, sd and the Welch test to 1e-9 relative.
    (The lift of ~0.7 keeps the test's figures far from 0, where relative error means little:
    see `tests.stats.test_abtest._large_arms`.)"""
    rng = np.random.default_rng(41)
    c, t = rng.normal(100_000.0, 1.0, 60), rng.normal(100_000.6, 1.2, 45)
    ac, at = ArmStats.from_values(c), ArmStats.from_values(t)
    dc, dt = DescrStatsW(c), DescrStatsW(t)
    assert ac.var == pytest.approx(dc.var * 60 / 59, rel=1e-9)
    assert math.sqrt(at.var) == pytest.approx(dt.std * math.sqrt(45 / 44), rel=1e-9)
    res = welch(ac, at)
    stat, p, df = CompareMeans(dt, dc).ttest_ind(usevar="unequal")
    lo, hi = CompareMeans(dt, dc).tconfint_diff(alpha=0.05, usevar="unequal")
    assert res.statistic == pytest.approx(stat, rel=1e-9)
    assert res.p_value == pytest.approx(p, rel=1e-9)
    assert res.df == pytest.approx(df, rel=1e-9)
    assert res.lift_ci[0] == pytest.approx(lo, rel=1e-9)
    assert res.lift_ci[1] == pytest.approx(hi, rel=1e-9)
