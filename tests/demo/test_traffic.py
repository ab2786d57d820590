"""The demo's traffic simulator against a real store: requests through the prediction path,
sticky per customer, delayed labels, the drift episode, and failures that never stop it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from app.demo import TrafficSimulator, TrafficSource
from core.clock import utcnow
from core.engine import LocalEngine
from core.errors import InvalidInput

MODEL = "churn"


def _frame(n: int, *, seed: int, region: str | None = None) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, n)
    regions = rng.choice(["north", "south", "east"], n) if region is None else [region] * n
    return pl.DataFrame(
        {
            "customer": [f"c{i}" for i in range(n)],
            "age": age,
            "region": regions,
            "churned": (age > 45).astype(int),
        }
    )


@pytest.fixture
def source(tmp_path: Path) -> TrafficSource:
    normal, drifted = tmp_path / "normal.parquet", tmp_path / "drifted.parquet"
    _frame(500, seed=1).write_parquet(normal)
    # An unseen region marks drifted traffic, so the stored events show when it was sent.
    _frame(500, seed=2, region="mars").write_parquet(drifted)
    return TrafficSource(
        model=MODEL, normal=normal, target="churned", drop=("customer",), drifted=drifted
    )


@pytest.fixture
def served(engine: LocalEngine, artifact_bytes: bytes) -> LocalEngine:
    """churn v1 and v2 (the same small pipeline) serving 50/50 in production."""
    engine.create_model(MODEL, "classification", target="churned")
    for _ in range(2):
        engine.register_version(MODEL, artifact_bytes, algorithm="logistic_regression")
    for v in ("v1", "v2"):
        engine.transition_version(MODEL, v, "validated")
    engine.set_traffic(MODEL, {"v1": 0.5, "v2": 0.5}, reason="test")
    return engine


def _until(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_traffic_reaches_the_metrics_with_labels_and_sticky_units(
    served: LocalEngine, source: TrafficSource
) -> None:
    sim = TrafficSimulator(
        served, [source], rate=300, tick_s=0.1, label_delay_s=(0.2, 0.5), label_share=0.8,
        label_flush_s=0.2, units=200, drift_after_s=None, seed=3,
    )  # fmt: skip
    sim.start()
    try:
        _until(lambda: sim.stats().requests >= 600 and sim.stats().labels_sent >= 300)
    finally:
        sim.stop()
    stats = sim.stats()
    assert not stats.running and not sim.running
    assert stats.errors == 0 and stats.last_error is None
    assert set(stats.by_version[MODEL]) == {"v1", "v2"}
    assert sum(stats.by_version[MODEL].values()) == stats.requests
    # Every answered request was logged, every sent label stored.
    metrics = served.get_performance_metrics(MODEL, start=utcnow() - timedelta(minutes=5))
    per_version: dict[str, int] = {}
    for bucket in metrics.buckets:
        assert bucket.version is not None
        per_version[bucket.version] = per_version.get(bucket.version, 0) + bucket.requests
    assert per_version == stats.by_version[MODEL]
    assert sum(b.labelled for b in metrics.buckets) == stats.labels_sent
    assert stats.labels_sent + stats.labels_pending <= stats.requests
    # About label_share of the requests get a label (sent or still due).
    assert 0.7 < (stats.labels_sent + stats.labels_pending) / stats.requests < 0.9
    with served.store.read() as conn:
        versions_per_unit = conn.scalar(
            "SELECT max(n) FROM (SELECT unit_id, count(DISTINCT version) AS n"
            " FROM prediction_events WHERE model_id = ? GROUP BY unit_id)",
            [MODEL],
        )
        ids = conn.row(
            "SELECT count(*) AS n, count(DISTINCT request_id) AS distinct_ids"
            " FROM prediction_events WHERE model_id = ?",
            [MODEL],
        )
    assert versions_per_unit == 1, "a customer must always see the same version"
    assert ids == {"n": stats.requests, "distinct_ids": stats.requests}


def test_the_drift_episode_switches_the_features_and_ends(
    served: LocalEngine, source: TrafficSource
) -> None:
    sim = TrafficSimulator(
        served, [source], rate=200, tick_s=0.1, drift_after_s=0.5, drift_duration_s=1.0,
        label_delay_s=(0.0, 0.1), seed=4,
    )  # fmt: skip
    sim.start()
    try:
        _until(lambda: sim.stats().drift_active)
        _until(lambda: sim.stats().drift_ended_at is not None)
        during = sim.stats()
        _until(lambda: sim.stats().requests > during.requests + 100)
    finally:
        sim.stop()
    stats = sim.stats()
    assert not stats.drift_active
    assert stats.drift_started_at is not None and stats.drift_ended_at is not None
    assert 0.8 < (stats.drift_ended_at - stats.drift_started_at).total_seconds() < 10
    with served.store.read() as conn:
        mars = conn.row(
            "SELECT max(ts) AS last, count(*) AS n FROM prediction_events"
            " WHERE model_id = ? AND features LIKE '%mars%'",
            [MODEL],
        )
        assert mars is not None and mars["n"] > 0, "drifted rows were sent during the episode"
        after = conn.scalar(
            "SELECT count(*) FROM prediction_events WHERE model_id = ? AND ts > ?",
            [MODEL, mars["last"]],
        )
    assert after > 0, "healthy traffic came back after it"


def test_failures_are_counted_and_never_stop_the_thread(
    engine: LocalEngine, artifact_bytes: bytes, source: TrafficSource
) -> None:
    engine.create_model(MODEL, "classification", target="churned")
    sim = TrafficSimulator(engine, [source], rate=100, tick_s=0.05, drift_after_s=None)
    sim.start()
    try:
        # No deployment yet: every batch is refused, and counted.
        _until(lambda: sim.stats().errors >= 20)
        stats = sim.stats()
        assert stats.requests == 0 and sim.running
        assert stats.last_error is not None and "no production deployment" in stats.last_error
        engine.register_version(MODEL, artifact_bytes, algorithm="logistic_regression")
        engine.transition_version(MODEL, "v1", "validated")
        engine.deploy(MODEL, "v1", reason="test")
        _until(lambda: sim.stats().requests >= 50)
    finally:
        sim.stop()
    assert sim.stats().by_version == {MODEL: {"v1": sim.stats().requests}}


def test_manual_drift_and_bad_settings(served: LocalEngine, source: TrafficSource) -> None:
    sim = TrafficSimulator(served, [source], rate=50, drift_after_s=None, drift_duration_s=None)
    assert sim.stats().requests == 0 and not sim.stats().running
    sim.start()
    try:
        sim.start_drift()
        assert sim.stats().drift_active
        sim.end_drift()
        assert not sim.stats().drift_active and sim.stats().drift_ended_at is not None
    finally:
        sim.stop()
        sim.stop()  # idempotent
    with pytest.raises(InvalidInput):
        TrafficSimulator(served, [], rate=10)
    with pytest.raises(InvalidInput):
        TrafficSimulator(served, [source], rate=0)
    with pytest.raises(InvalidInput):
        TrafficSimulator(served, [source], label_delay_s=(5, 1))
    missing = TrafficSource(model=MODEL, normal=source.normal.with_name("nope.parquet"),
                            target="churned")  # fmt: skip
    with pytest.raises(InvalidInput, match=r"nope\.parquet"):
        TrafficSimulator(served, [missing]).start()
