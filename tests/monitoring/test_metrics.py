"""Metrics over a known synthetic event set equal hand-computed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.engine import LocalEngine
from core.errors import InvalidInput
from tests.conftest import add_versions

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def events(engine: LocalEngine, artifact_bytes: bytes) -> LocalEngine:
    """Two minutes of traffic for v1 and v2 with known latencies, errors and labels."""
    engine.create_model("m", "classification")
    engine.register_version("m", artifact_bytes, algorithm="lr")  # classes 0/1 → positive "1"
    add_versions(engine, "m", 2)
    items = []
    for i in range(120):  # one event per second, minute 0 and minute 1
        items.append({
            "request_id": f"r{i}", "ts": (T0 + timedelta(seconds=i)).isoformat(),
            "version": "v1" if i % 3 else "v2", "prediction": i % 2, "score": (i % 2) * 0.8 + 0.1,
            "latency_ms": float(i % 60), "error": "boom" if i % 10 == 0 else None,
        })  # fmt: skip
    engine.log_events("m", items)
    # Labels for every 4th request: actual 1.
    engine.record_actuals("m", [{"request_id": f"r{i}", "actual": 1} for i in range(0, 120, 4)])
    return engine


def _expected(items: list[dict], minute: int, version: str) -> dict:
    rows = [e for e in items if e["minute"] == minute and e["version"] == version]
    lat = np.array([e["latency_ms"] for e in rows])
    ok = [e for e in rows if e["error"] is None and e["label"] is not None]
    correct = [e for e in ok if e["prediction"] == e["label"]]
    tp = sum(1 for e in ok if e["prediction"] == 1 and e["label"] == 1)
    fp = sum(1 for e in ok if e["prediction"] == 1 and e["label"] == 0)
    fn = sum(1 for e in ok if e["prediction"] == 0 and e["label"] == 1)
    return {
        "requests": len(rows),
        "error_rate": sum(e["error"] is not None for e in rows) / len(rows),
        "p50": float(np.quantile(lat, 0.5)), "p95": float(np.quantile(lat, 0.95)),
        "p99": float(np.quantile(lat, 0.99)), "labelled": len(ok),
        "accuracy": len(correct) / len(ok) if ok else None,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "positive_rate": sum(e["prediction"] == 1 for e in rows) / len(rows),
    }  # fmt: skip


def test_bucketed_metrics_equal_hand_computed_values(events: LocalEngine) -> None:
    result = events.get_performance_metrics(
        "m", start=T0, end=T0 + timedelta(minutes=5), bucket_s=60
    )
    assert result.positive_class == "1"
    table = [
        {"minute": i // 60, "version": "v1" if i % 3 else "v2", "latency_ms": float(i % 60),
         "error": "boom" if i % 10 == 0 else None, "prediction": i % 2, "label": 1 if i % 4 == 0 else None}
        for i in range(120)
    ]  # fmt: skip
    assert [(b.bucket, b.version) for b in result.buckets] == [
        (T0, "v1"),
        (T0, "v2"),
        (T0 + timedelta(minutes=1), "v1"),
        (T0 + timedelta(minutes=1), "v2"),
    ]
    for b in result.buckets:
        want = _expected(table, int((b.bucket - T0).total_seconds() // 60), b.version or "")
        assert b.requests == want["requests"]
        assert b.error_rate == pytest.approx(want["error_rate"])
        assert b.latency_p50_ms == pytest.approx(want["p50"])
        assert b.latency_p95_ms == pytest.approx(want["p95"])
        assert b.latency_p99_ms == pytest.approx(want["p99"])
        assert b.labelled == want["labelled"]
        assert b.accuracy == pytest.approx(want["accuracy"])
        assert b.precision == (
            pytest.approx(want["precision"]) if want["precision"] is not None else None
        )
        assert b.recall == pytest.approx(want["recall"])
        assert b.positive_rate == pytest.approx(want["positive_rate"])
    only_v2 = events.get_performance_metrics(
        "m", start=T0, end=T0 + timedelta(minutes=5), version="v2"
    )
    assert {b.version for b in only_v2.buckets} == {"v2"}
    whole = events.get_performance_metrics(
        "m", start=T0, end=T0 + timedelta(hours=1), bucket_s=3600
    )
    assert sum(b.requests for b in whole.buckets) == 120


def test_regression_mae_and_rmse(engine: LocalEngine) -> None:
    engine.create_model("r", "regression")
    add_versions(engine, "r", 2)
    engine.log_events(
        "r",
        [
            {"request_id": f"q{i}", "ts": T0.isoformat(), "version": "v1", "prediction": float(i)}
            for i in range(10)
        ],
    )
    engine.record_actuals(
        "r", [{"request_id": f"q{i}", "actual": float(i) + (1 if i % 2 else -3)} for i in range(10)]
    )
    [b] = engine.get_performance_metrics("r", start=T0, end=T0 + timedelta(minutes=1)).buckets
    errors = np.array([1 if i % 2 else -3 for i in range(10)], dtype=float)
    assert b.mae == pytest.approx(np.abs(errors).mean())
    assert b.rmse == pytest.approx(np.sqrt((errors**2).mean()))
    assert b.prediction_mean == pytest.approx(4.5)


def test_bad_ranges_are_refused(events: LocalEngine) -> None:
    with pytest.raises(InvalidInput, match="time range is empty"):
        events.get_performance_metrics("m", start=T0, end=T0)
    with pytest.raises(InvalidInput, match="more than"):
        events.get_performance_metrics("m", start=T0 - timedelta(days=30), end=T0, bucket_s=1)
