"""`storage.repos.abtest_sums` on a real store: who is a unit, which arm and period it belongs
to, and the shifted sums it returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from core.abtesting.config import METRICS
from core.domain import Task
from core.events.frames import events_frame
from core.stats.abtest import ArmStats
from storage.repos import abtest_sums
from storage.repos.events import insert_frame
from tests.abtesting.conftest import MODEL, Env

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOWS = [(T0, T0 + timedelta(hours=1)), (T0 + timedelta(hours=1), T0 + timedelta(hours=2))]


def _log(env: Env, events: list[dict[str, Any]]) -> None:
    items = [
        {"request_id": f"q{i}", "prediction": 1, "latency_ms": 10.0} | e
        for i, e in enumerate(events)
    ]
    with env.store.write() as conn:
        insert_frame(conn, "prediction_events", events_frame(MODEL, Task.CLASSIFICATION, {}, items))


def _sums(env: Env, *, by_unit_id: bool, metrics: list[str] | None = None) -> list[dict]:
    with env.store.read() as conn:
        return abtest_sums.unit_sums(
            conn, model_id=MODEL, environment="production", versions=[1, 2], windows=WINDOWS,
            metrics=metrics or ["latency_ms"], regression=False, by_unit_id=by_unit_id,
        )  # fmt: skip


def _at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def test_every_metric_has_its_sql() -> None:
    assert set(METRICS) == abtest_sums.METRICS
    with pytest.raises(ValueError, match="no SQL"):
        abtest_sums._metric("auc", False)


def test_first_exposure_decides_arm_and_period(env: Env) -> None:
    _log(env, [
        # alice: v1 first (period 0), then v2 after the split change: one unit, v1's, crossed
        {"unit_id": "alice", "version": "v1", "ts": _at(5), "latency_ms": 10.0},
        {"unit_id": "alice", "version": "v2", "ts": _at(70), "latency_ms": 20.0},
        # bob: only in period 1, on v2
        {"unit_id": "bob", "version": "v2", "ts": _at(65), "latency_ms": 30.0},
        # carol: two versions at the very same time: the lower version, deterministically
        {"unit_id": "carol", "version": "v2", "ts": _at(10), "latency_ms": 40.0},
        {"unit_id": "carol", "version": "v1", "ts": _at(10), "latency_ms": 50.0},
        # outside every window: not in the test
        {"unit_id": "dave", "version": "v1", "ts": _at(-5)},
        {"unit_id": "alice", "version": "v2", "ts": _at(130), "latency_ms": 1e6},
        # a request without a unit id whose request id equals a user's unit id: its own unit
        {"request_id": "alice", "version": "v2", "ts": _at(20), "latency_ms": 60.0},
    ])  # fmt: skip
    rows = {(r["arm"], r["period"]): r for r in _sums(env, by_unit_id=True)}
    assert set(rows) == {(1, 0), (2, 0), (2, 1)}
    v1, v2, v2_late = rows[(1, 0)], rows[(2, 0)], rows[(2, 1)]
    assert (v1["units"], v1["crossed"]) == (2, 2)  # alice and carol
    assert (v2["units"], v2["crossed"]) == (1, 0)  # the request "alice"
    assert (v2_late["units"], v2_late["crossed"]) == (1, 0)  # bob
    got = ArmStats.from_shifted_sums(v1["n0"], v1["c0"], v1["s0"], v1["q0"])
    want = ArmStats.from_values([15.0, 45.0])  # alice (10 + 20)/2, carol (40 + 50)/2
    assert (
        got.n == 2 and got.mean == pytest.approx(want.mean) and got.var == pytest.approx(want.var)
    )

    # With request units every request is a unit: nobody crosses, nothing is merged.
    rows = _sums(env, by_unit_id=False)
    assert sum(r["units"] for r in rows) == 6 and sum(r["crossed"] for r in rows) == 0


def test_shifted_sums_are_exact_for_a_large_mean(env: Env) -> None:
    x = np.random.default_rng(5).normal(100_000.0, 1.0, 3000)
    _log(env, [
        {"unit_id": f"u{i}", "version": "v1", "ts": _at(1 + i / 100), "latency_ms": float(v)}
        for i, v in enumerate(x)
    ])  # fmt: skip
    [row] = _sums(env, by_unit_id=True)
    got = ArmStats.from_shifted_sums(row["n0"], row["c0"], row["s0"], row["q0"])
    assert got.mean == pytest.approx(x.mean(), rel=1e-15)
    assert got.var == pytest.approx(x.var(ddof=1), rel=1e-12)
    # An arm without values for a metric: no mean to shift by, and zero sums.
    [row] = _sums(env, by_unit_id=True, metrics=["accuracy"])
    assert (row["n0"], row["c0"], row["s0"], row["q0"]) == (0, None, 0, 0)
