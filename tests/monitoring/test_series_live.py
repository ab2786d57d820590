"""What the live view adds to the chart series: a window on whole buckets slid forward by
reading only its last buckets. (Its summary lines come from `health_by_version`, over one
interval: tests/fleet/test_rates.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.engine import LocalEngine
from core.monitoring.metrics import PerformanceMetrics
from core.monitoring.series import aligned_start, with_tail
from tests.conftest import add_versions

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


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
    add_versions(engine, "m", 2)
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
