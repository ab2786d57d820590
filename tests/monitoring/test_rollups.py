"""Per-minute metrics read from the rollups equal the same metrics read from the events:
before and after sealing, with late events in sealed minutes, late labels, a range that does
not start on a minute, a version filter, and a regression model."""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from core.engine import LocalEngine
from core.monitoring.metrics import PerformanceMetrics
from storage.repos import rollups
from tests.conftest import add_versions

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MINUTES = 12


def _traffic(
    engine: LocalEngine, prefix: str, start: datetime, seconds: int, step: int = 7
) -> None:
    items = [
        {
            "request_id": f"{prefix}{i}",
            "ts": (start + timedelta(seconds=i)).isoformat(),
            "version": "v1" if i % 3 else "v2",
            "prediction": i % 2,
            "score": (i % 2) * 0.7 + 0.1,
            "latency_ms": float((i * step) % 97),
            "error": "boom" if i % 11 == 0 else None,
            "environment": "production" if i % 5 else "staging",
        }
        for i in range(seconds)
    ]
    engine.log_events("m", items)


def _rows(metrics: PerformanceMetrics) -> list[dict]:
    out = []
    for b in metrics.buckets:
        row = asdict(b)
        for k, v in row.items():
            if isinstance(v, float):
                row[k] = round(v, 9) if math.isfinite(v) else v
        out.append(row)
    return out


def _raw(engine: LocalEngine, start: datetime, end: datetime, **kw: object) -> list[dict]:
    """The same query with the rollups forgotten: what the events alone say."""
    with engine.store.write() as conn:
        mark = conn.row("SELECT * FROM rollup_watermarks WHERE model_id = 'm'")
        dirty = conn.rows("SELECT * FROM rollup_dirty WHERE model_id = 'm'")
        kept = conn.frame("SELECT * FROM event_rollups WHERE model_id = 'm'")
        rollups.forget(conn, "m")
    try:
        return _rows(engine.get_performance_metrics("m", start=start, end=end, bucket_s=60, **kw))
    finally:
        with engine.store.write() as conn:
            if mark is not None:
                conn.execute(
                    "INSERT INTO rollup_watermarks VALUES (?, ?, ?)",
                    [mark["model_id"], mark["sealed_until"], mark["positive"]],
                )
            for d in dirty:
                conn.execute("INSERT INTO rollup_dirty VALUES (?, ?)", [d["model_id"], d["minute"]])
            if kept.height:
                conn.insert_frame("event_rollups", kept)


def _both(engine: LocalEngine, start: datetime, end: datetime, **kw: object) -> list[dict]:
    got = _rows(engine.get_performance_metrics("m", start=start, end=end, bucket_s=60, **kw))
    assert got == _raw(engine, start, end, **kw)
    return got


def test_rollups_answer_exactly_what_the_events_do(
    engine: LocalEngine, artifact_bytes: bytes
) -> None:
    engine.create_model("m", "classification")
    engine.register_version("m", artifact_bytes, algorithm="lr")
    add_versions(engine, "m", 2)
    _traffic(engine, "r", T0, MINUTES * 60)
    engine.record_actuals(
        "m", [{"request_id": f"r{i}", "actual": i % 3 % 2} for i in range(0, 720, 4)]
    )
    end = T0 + timedelta(minutes=MINUTES)
    before = _both(engine, T0, end)

    assert engine.rollups.catch_up("m") >= 1
    with engine.store.read() as conn:
        assert rollups.watermark(conn, "m") is not None
        assert conn.scalar("SELECT count(*) FROM event_rollups WHERE model_id = 'm'") == 2 * MINUTES
    assert _both(engine, T0, end) == before
    # A range starting inside a minute and a version filter.
    _both(engine, T0 + timedelta(seconds=75), end - timedelta(seconds=20))
    _both(engine, T0, end, version="v2")

    # Late labels for sealed minutes: read fresh, nothing to rebuild.
    engine.record_actuals("m", [{"request_id": f"r{i}", "actual": 1} for i in range(1, 720, 4)])
    after_labels = _both(engine, T0, end)
    assert after_labels != before

    # Late events for sealed minutes: the minutes turn dirty, are read from the events, and
    # are rebuilt by the next catch-up.
    _traffic(engine, "late", T0 + timedelta(minutes=3), 90, step=13)
    with engine.store.read() as conn:
        dirty = conn.rows("SELECT minute FROM rollup_dirty WHERE model_id = 'm' ORDER BY minute")
    assert [d["minute"] for d in dirty] == [
        (T0 + timedelta(minutes=k)).replace(tzinfo=None) for k in (3, 4)
    ]
    with_late = _both(engine, T0, end)
    assert sum(r["requests"] for r in with_late) == MINUTES * 60 + 90
    engine.rollups.catch_up("m")
    with engine.store.read() as conn:
        assert conn.scalar("SELECT count(*) FROM rollup_dirty") == 0
    assert _both(engine, T0, end) == with_late
    # An environment filter reads the events (the rollups pool environments).
    staging = engine.monitor.get_performance_metrics(
        "m", (T0, end), bucket_s=60, environment="staging"
    )
    assert sum(b.requests for b in staging.buckets) == sum(
        1 for i in range(MINUTES * 60) if i % 5 == 0
    ) + sum(1 for i in range(90) if i % 5 == 0)


def test_live_minutes_are_never_sealed(engine: LocalEngine, artifact_bytes: bytes) -> None:
    engine.create_model("m", "classification")
    engine.register_version("m", artifact_bytes, algorithm="lr")
    add_versions(engine, "m", 2)
    now = datetime.now(UTC)
    first = now - timedelta(seconds=30)
    _traffic(engine, "r", first, 20)
    engine.rollups.catch_up("m")
    with engine.store.read() as conn:
        mark = rollups.watermark(conn, "m")
    assert mark is None or mark <= first.replace(second=0, microsecond=0, tzinfo=None)
    got = engine.get_performance_metrics(
        "m", start=now - timedelta(minutes=5), end=now + timedelta(minutes=1), bucket_s=60
    )
    assert sum(b.requests for b in got.buckets) == 20


def test_regression_metrics_through_rollups(engine: LocalEngine, artifact_bytes: bytes) -> None:
    engine.create_model("m", "regression")
    add_versions(engine, "m", 2)
    items = [
        {"request_id": f"q{i}", "ts": (T0 + timedelta(seconds=i)).isoformat(), "version": "v1",
         "prediction": float(i % 17), "latency_ms": float(i % 23)}
        for i in range(300)
    ]  # fmt: skip
    engine.log_events("m", items)
    engine.record_actuals(
        "m", [{"request_id": f"q{i}", "actual": float(i % 13)} for i in range(0, 300, 2)]
    )
    end = T0 + timedelta(minutes=5)
    before = _both(engine, T0, end)
    engine.rollups.catch_up("m")
    assert _both(engine, T0, end) == before
    assert all(r["mae"] is not None for r in before)
