"""A metric with a large mean and a small spread (latency 100,000 ± a few ms; issue #18), through
the real store and analysis: per-arm mean, sd and the Welch and sequential statistics match
numpy, scipy and statsmodels on the same per-unit values to 1e-9, with users returning after
a split change (so per-period partial statistics are merged) and some of them moved to the
other arm (intent to treat, worked out here independently in numpy).

Why ± 4 ms and not ± 1 here: a lift is a difference of two means of 100,000, each known to an
ulp of 100,000 (1.5e-11) in float64 whoever computes it (numpy's is often 1 ulp off; ours is
correctly rounded), so a p-value can agree only to about t · 1.5e-11 / se. With hundreds of
units at ± 1 that floor nears 1e-9 for any implementation; `tests/stats` checks ± 1 on fewer
units, and the variance itself agrees to ~1e-13 either way."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from core.abtesting import ABTestConfig
from core.domain import Task
from core.events.frames import events_frame
from storage.repos.events import insert_frame
from tests.abtesting.conftest import MODEL, Env

EXACT = 1e-9
BASE = 100_000.0


def _log(env: Env, rows: list[tuple[str, str, float]], tag: str) -> None:
    events: list[dict[str, Any]] = [
        {"request_id": f"{tag}-{i}", "version": v, "unit_id": u, "prediction": 1,
         "latency_ms": x}
        for i, (u, v, x) in enumerate(rows)
    ]  # fmt: skip
    with env.store.write() as conn:
        insert_frame(
            conn, "prediction_events", events_frame(MODEL, Task.CLASSIFICATION, {}, events)
        )


def _round(
    rng: np.random.Generator, users: dict[str, str], per_user: int
) -> list[tuple[str, str, float]]:
    """`per_user` events for each user from the version serving them: v1 100,000 ± 4,
    v2 100,001 ± 4.8 (ms)."""
    return [
        (u, v, float(rng.normal(BASE, 4.0) if v == "v1" else rng.normal(BASE + 1, 4.8)))
        for u, v in users.items()
        for _ in range(per_user)
    ]


@pytest.mark.parametrize("method", ["fixed", "sequential"])
def test_large_mean_metric_matches_numpy_scipy_statsmodels(env: Env, method: str) -> None:
    t = env.ab.create_ab_test(
        ABTestConfig(
            model=MODEL,
            name="latency",
            versions=["v1", "v2"],
            split={"v1": 50, "v2": 50},
            unit="unit_id",
            primary_metric="latency_ms",
            method=method,
            min_sample_per_arm=20,
            sequential_tuning=100.0,
            mde=1e-5,
        ),
        actor="alice",
    )
    env.ab.start(t.id)
    rng = np.random.default_rng(18)
    first = {f"u{i}": ("v1", "v2")[i % 2] for i in range(120)}
    one = _round(rng, first, 2)
    _log(env, one, "a")
    env.ab.update_traffic_split(t.id, {"v1": 30, "v2": 70}, actor="alice")
    # The same users return; ten of v1's now meet v2. Fifty new users follow 30/70.
    again = {u: ("v2" if v == "v1" and int(u[1:]) < 20 else v) for u, v in first.items()}
    new = {f"u{120 + i}": "v1" if i < 15 else "v2" for i in range(50)}
    two = _round(rng, again | new, 3)
    _log(env, two, "b")

    res = env.ab.analyze_test_results(t.id)

    # Intent to treat, independently: a user's arm is their first version, their value the
    # mean of all their events.
    arm_of: dict[str, str] = {}
    values: dict[str, list[float]] = {}
    for u, v, x in one + two:
        arm_of.setdefault(u, v)
        values.setdefault(u, []).append(x)
    per_arm = {
        a: np.array([np.mean(values[u]) for u in values if arm_of[u] == a]) for a in ("v1", "v2")
    }
    c, tr = per_arm["v1"], per_arm["v2"]
    assert res.srm["units"] == 170 and res.srm["crossed_units"] == 10
    assert not res.srm["mismatch"]
    for a, x in per_arm.items():
        arm = res.arms[a]["latency_ms"]
        assert arm.n == x.size and arm.mean is not None and arm.sd is not None
        assert arm.mean == pytest.approx(x.mean(), rel=1e-14)
        assert arm.sd == pytest.approx(x.std(ddof=1), rel=EXACT)
        assert arm.sd == pytest.approx(
            DescrStatsW(x).std * math.sqrt(x.size / (x.size - 1)), rel=EXACT
        )

    [cmp] = res.comparisons
    assert cmp.lift == pytest.approx(tr.mean() - c.mean(), rel=EXACT)
    if method == "fixed":
        ref = stats.ttest_ind(tr, c, equal_var=False)
        lo, hi = ref.confidence_interval(0.95)
        assert cmp.p_value == pytest.approx(ref.pvalue, rel=EXACT)
        _, p_sm, _ = CompareMeans(DescrStatsW(tr), DescrStatsW(c)).ttest_ind(usevar="unequal")
        assert cmp.p_value == pytest.approx(p_sm, rel=EXACT)
    else:  # the normal-mixture boundary (core.stats.abtest), from numpy's variances
        n, alpha = c.size + tr.size, 0.05
        rho2 = (-2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))) / 100.0
        v = c.var(ddof=1) / c.size + tr.var(ddof=1) / tr.size
        lift = tr.mean() - c.mean()
        half = math.sqrt(v * n) * math.sqrt(
            2 * (n * rho2 + 1) / (n**2 * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha)
        )
        lo, hi = lift - half, lift + half
        z2 = lift * lift / v
        p = min(1.0, math.sqrt(n * rho2 + 1) * math.exp(-z2 * n * rho2 / (2 * (n * rho2 + 1))))
        assert cmp.p_value == pytest.approx(p, rel=EXACT)
    assert cmp.ci[0] == pytest.approx(lo, rel=EXACT)
    assert cmp.ci[1] == pytest.approx(hi, rel=EXACT)
