"""What the live view adds to the chart series: a one-line summary per version, and a window
on whole buckets slid forward by reading only its last buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.engine import LocalEngine
from core.monitoring.metrics import PerformanceMetrics
from core.monitoring.series import VersionSeries, aligned_start, summarize, with_tail

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def series() -> VersionSeries:
    # Three 10 s buckets: 20 requests (2 failed, 10 labelled, 7 right), none, 5 (0 failed,
    # 4 labelled, 1 right).
    return VersionSeries(
        version="v2",
        x=[0.0, 10.0, 20.0],
        requests=[20, 0, 5],
        requests_per_s=[2.0, 0.0, 0.5],
        error_rate=[0.1, None, 0.0],
        latency_p50_ms=[4.0, None, 6.0],
        latency_p99_ms=[40.0, None, 60.0],
        labelled=[10, 0, 4],
        accuracy=[0.7, None, 0.25],
        mae=[None, None, None],
    )


def test_counts_and_rates_pool_exactly() -> None:
    s = summarize(series(), span_s=30)
    assert s.version == "v2" and s.requests == 25 and s.labelled == 14
    assert s.requests_per_s == pytest.approx(25 / 30)
    assert s.error_rate == pytest.approx(2 / 25)
    assert s.accuracy == pytest.approx((7 + 1) / 14)
    assert s.mae is None


def test_latency_is_the_latest_bucket_with_traffic() -> None:
    s = summarize(series(), span_s=30)
    assert (s.latency_p50_ms, s.latency_p99_ms) == (6.0, 60.0)


def test_no_traffic_gives_no_values() -> None:
    empty = VersionSeries(version="v1", x=[0.0], requests=[0], requests_per_s=[0.0],
                          error_rate=[None], latency_p50_ms=[None], latency_p99_ms=[None],
                          labelled=[0], accuracy=[None], mae=[None])  # fmt: skip
    s = summarize(empty, span_s=10)
    assert s.requests == 0 and s.requests_per_s == 0.0
    assert s.error_rate is None and s.latency_p99_ms is None and s.accuracy is None


def test_aligned_start_ends_with_the_bucket_holding_the_end() -> None:
    end = T0 + timedelta(seconds=7)
    assert aligned_start(end, 300, 5) == T0 + timedelta(seconds=5) - 59 * timedelta(seconds=5)
    assert aligned_start(end, 3600, 60) == T0 - 59 * timedelta(minutes=1)
    assert aligned_start(T0, 86400, 900) == T0 - 95 * timedelta(minutes=15)


def test_a_window_slid_with_a_tail_equals_reading_it_whole(
    engine: LocalEngine, artifact_bytes: bytes
) -> None:
    engine.create_model("m", "classification")
    engine.register_version("m", artifact_bytes, algorithm="lr")
    engine.log_events("m", [
        {"request_id": f"r{i}", "ts": (T0 + timedelta(seconds=i)).isoformat(),
         "version": "v1" if i % 3 else "v2", "prediction": i % 2, "score": 0.5,
         "latency_ms": float(i % 17), "error": "boom" if i % 11 == 0 else None}
        for i in range(120)
    ])  # fmt: skip
    engine.record_actuals("m", [{"request_id": f"r{i}", "actual": 1} for i in range(0, 120, 4)])

    def read(start: datetime, end: datetime) -> PerformanceMetrics:
        return engine.get_performance_metrics("m", start=start, end=end, bucket_s=10)

    window, width = 60, 10
    end1, end2 = T0 + timedelta(seconds=105), T0 + timedelta(seconds=118)
    head = read(aligned_start(end1, window, width), end1)
    start2 = aligned_start(end2, window, width)
    tail = read(T0 + timedelta(seconds=100), end2)  # the bucket before the current one, on
    slid = with_tail(head, tail, start2)
    whole = read(start2, end2)
    assert slid == whole
    assert slid.buckets[0].bucket == T0 + timedelta(seconds=60)
    with pytest.raises(ValueError, match="hole"):
        with_tail(read(T0, T0 + timedelta(seconds=50)), tail, start2)
