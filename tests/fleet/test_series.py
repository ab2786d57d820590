"""Chart series from `PerformanceMetrics`, against hand-computed values and real buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.engine import LocalEngine
from core.monitoring.metrics import MetricsBucket, PerformanceMetrics
from core.monitoring.series import bucket_for_window, bucket_grid, chart_series
from tests.conftest import add_versions

T = datetime(2026, 6, 1, 10, 0, 0, tzinfo=UTC)


def _b(second: int, version: str | None, requests: int, **kw: object) -> MetricsBucket:
    values: dict[str, object] = dict(
        error_rate=0.0, latency_p50_ms=None, latency_p95_ms=None, latency_p99_ms=None,
        prediction_mean=None, positive_rate=None, labelled=0,
    )  # fmt: skip
    values.update(kw)
    return MetricsBucket(T + timedelta(seconds=second), version, requests, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("window_s", "bucket_s"),
    [(300, 5), (3600, 60), (86400, 900), (60, 1), (600, 10), (900, 10), (7 * 86400, 7200)],
)
def test_bucket_for_window(window_s: float, bucket_s: int) -> None:
    assert bucket_for_window(window_s) == bucket_s
    assert window_s / bucket_s <= 100


def test_bucket_for_window_beyond_the_ladder_uses_whole_days() -> None:
    assert bucket_for_window(365 * 86400) == 4 * 86400  # 365 days in at most 100 points


def test_series_fill_the_grid_with_zeros_and_gaps() -> None:
    # Range 10:00:02 → 10:00:18 in 5 s buckets: 10:00:00 (3 s inside), :05, :10, :15 (3 s).
    metrics = PerformanceMetrics(
        model_id="m", start=T + timedelta(seconds=2), end=T + timedelta(seconds=18),
        bucket_s=5, positive_class="1",
        buckets=[
            _b(0, "v1", 6, error_rate=0.5, latency_p50_ms=1.0, latency_p99_ms=2.0, labelled=2,
               accuracy=0.5),
            _b(5, "v10", 5, latency_p50_ms=3.0, latency_p99_ms=4.0, labelled=1, accuracy=1.0),
            _b(10, "v1", 10, latency_p50_ms=1.5, latency_p99_ms=2.5),
            _b(15, "v10", 3, error_rate=1 / 3, labelled=0),
            _b(15, None, 2),
        ],
    )  # fmt: skip
    v1, v10, unversioned = chart_series(metrics)
    x = [(T + timedelta(seconds=s)).timestamp() for s in (0, 5, 10, 15)]
    assert (v1.version, v10.version, unversioned.version) == ("v1", "v10", None)
    assert v1.x == v10.x == unversioned.x == x
    assert v1.requests == [6, 0, 10, 0]
    assert v1.requests_per_s == [2.0, 0.0, 2.0, 0.0]  # 6 in 3 s, 10 in 5 s
    assert v1.error_rate == [0.5, None, 0.0, None]
    assert v1.latency_p50_ms == [1.0, None, 1.5, None]
    assert v1.latency_p99_ms == [2.0, None, 2.5, None]
    assert v1.labelled == [2, 0, 0, 0]
    assert v1.accuracy == [0.5, None, None, None]  # no label in the third bucket: a gap
    assert v10.requests == [0, 5, 0, 3]
    assert v10.requests_per_s == [0.0, 1.0, 0.0, 1.0]
    assert v10.error_rate == [None, 0.0, None, pytest.approx(1 / 3)]
    assert v10.accuracy == [None, 1.0, None, None]
    assert v10.mae == [None, None, None, None]
    assert unversioned.requests == [0, 0, 0, 2]


def test_an_empty_range_has_a_grid_and_no_series() -> None:
    metrics = PerformanceMetrics("m", T + timedelta(seconds=2), T + timedelta(seconds=18), 5, None)
    assert bucket_grid(metrics) == [T + timedelta(seconds=s) for s in (0, 5, 10, 15)]
    assert chart_series(metrics) == []


def test_the_grid_follows_buckets_aligned_elsewhere() -> None:
    start = T + timedelta(seconds=2, microseconds=500)
    metrics = PerformanceMetrics(
        "m", start, start + timedelta(seconds=10), 5, None,
        buckets=[MetricsBucket(start + timedelta(seconds=5), "v1", 1, 0.0, None, None, None,
                               None, None, 0)],
    )  # fmt: skip
    assert bucket_grid(metrics) == [start, start + timedelta(seconds=5)]
    [s] = chart_series(metrics)
    assert s.requests == [0, 1] and s.requests_per_s == [0.0, 0.2]


def test_series_from_real_five_second_buckets(engine: LocalEngine) -> None:
    engine.create_model("m", "classification")
    add_versions(engine, "m", 2)
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    start = end - timedelta(seconds=60)
    # 3 events 12 s before the end and 2 (one failed, one labelled wrong) 2 s before it.
    at = [end - timedelta(seconds=12)] * 3 + [end - timedelta(seconds=2)] * 2
    engine.log_events("m", [
        {"request_id": f"r{i}", "ts": t.isoformat(), "version": "v2", "prediction": 1,
         "latency_ms": 10.0 * (i + 1), "error": "Boom" if i == 4 else None}
        for i, t in enumerate(at)
    ])  # fmt: skip
    engine.record_actuals(
        "m", [{"request_id": "r0", "actual": 1}, {"request_id": "r3", "actual": 0}]
    )
    metrics = engine.get_performance_metrics("m", start=start, end=end, bucket_s=5)
    [s] = chart_series(metrics)
    grid = bucket_grid(metrics)
    assert len(s.x) == len(grid) in (12, 13)  # 60 s from an arbitrary second in 5 s buckets
    assert all(int(t.timestamp()) % 5 == 0 for t in grid)  # DuckDB's buckets, on the epoch grid
    assert sum(s.requests) == 5 and s.version == "v2"
    i = next(k for k, n in enumerate(s.requests) if n == 3)
    j = next(k for k, n in enumerate(s.requests) if n == 2)
    assert s.x[i] <= (end - timedelta(seconds=12)).timestamp() < s.x[i] + 5
    assert s.latency_p50_ms[i] == 20.0 and s.error_rate[i] == 0.0 and s.accuracy[i] == 1.0
    assert s.error_rate[j] == 0.5 and s.accuracy[j] == 0.0 and s.labelled[j] == 1
    assert s.latency_p99_ms[j] == pytest.approx(40.0 + 0.99 * 10.0)
    empty = [k for k, n in enumerate(s.requests) if n == 0]
    assert all(s.error_rate[k] is None and s.latency_p99_ms[k] is None for k in empty)
    assert all(s.requests_per_s[k] == 0.0 for k in empty)
