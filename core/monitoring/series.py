"""Chart-ready series from `PerformanceMetrics`: one per version, on a gap-free time grid.

Pure functions (no I/O). Every bucket of the metrics' range is present: counts are 0 where
there was no traffic, and the other values are None there (a gap in the line, not a zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core.monitoring.metrics import MetricsBucket, PerformanceMetrics

ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)
"""DuckDB's `time_bucket` origin for second-to-day widths: buckets start at ORIGIN + k·width."""

BUCKET_LADDER = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
MAX_POINTS = 100


@dataclass
class VersionSeries:
    """One version's metrics per bucket; all lists have one entry per bucket of `x`."""

    version: str | None
    """`vN`, or None for events without a version (or pooled metrics)."""
    x: list[float] = field(default_factory=list)
    """Bucket starts, as epoch seconds (UTC)."""
    requests: list[int] = field(default_factory=list)
    requests_per_s: list[float] = field(default_factory=list)
    """Requests over the part of the bucket inside the range (so a partial last bucket does
    not look like a drop in traffic)."""
    error_rate: list[float | None] = field(default_factory=list)
    latency_p50_ms: list[float | None] = field(default_factory=list)
    latency_p99_ms: list[float | None] = field(default_factory=list)
    labelled: list[int] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    """Classification: None where no label has arrived yet."""
    mae: list[float | None] = field(default_factory=list)
    """Regression: None where no label has arrived yet."""


def bucket_for_window(window_s: float, max_points: int = MAX_POINTS) -> int:
    """A bucket width (seconds) giving at most `max_points` points over the window:
    5 min -> 5 s, 1 h -> 60 s, 24 h -> 15 min. Widths come from a ladder of round values."""
    if not window_s > 0 or max_points < 1:
        raise ValueError("the window and the number of points must be positive")
    for width in BUCKET_LADDER:
        if window_s / width <= max_points:
            return width
    # Beyond the ladder (windows over ~100 days): whole days.
    return 86400 * -(-int(window_s) // (86400 * max_points))


def bucket_grid(metrics: PerformanceMetrics) -> list[datetime]:
    """The starts of every bucket overlapping [start, end), aligned as the metrics' buckets
    are (on a returned bucket when there is one, else on DuckDB's origin)."""
    width = timedelta(seconds=metrics.bucket_s)
    anchor = metrics.buckets[0].bucket if metrics.buckets else ORIGIN
    t = anchor + width * ((metrics.start - anchor) // width)
    out: list[datetime] = []
    while t < metrics.end:
        out.append(t)
        t += width
    return out


def chart_series(metrics: PerformanceMetrics) -> list[VersionSeries]:
    """One series per version found in `metrics` (ordered by version number, unversioned
    last), each on the full grid of the range."""
    grid = bucket_grid(metrics)
    index = {t: i for i, t in enumerate(grid)}
    start, end, width = metrics.start.timestamp(), metrics.end.timestamp(), metrics.bucket_s
    covered = [min(t.timestamp() + width, end) - max(t.timestamp(), start) for t in grid]
    by_version: dict[str | None, list[MetricsBucket | None]] = {}
    for b in metrics.buckets:
        slots = by_version.setdefault(b.version, [None] * len(grid))
        i = index.get(b.bucket)
        if i is not None:
            slots[i] = b
    out: list[VersionSeries] = []
    for version in sorted(by_version, key=_version_order):
        s = VersionSeries(version=version, x=[t.timestamp() for t in grid])
        for b, seconds in zip(by_version[version], covered, strict=True):
            requests = b.requests if b else 0
            s.requests.append(requests)
            s.requests_per_s.append(requests / seconds if seconds > 0 else 0.0)
            s.error_rate.append(b.error_rate if b and b.requests else None)
            s.latency_p50_ms.append(b.latency_p50_ms if b else None)
            s.latency_p99_ms.append(b.latency_p99_ms if b else None)
            s.labelled.append(b.labelled if b else 0)
            s.accuracy.append(b.accuracy if b and b.labelled else None)
            s.mae.append(b.mae if b and b.labelled else None)
        out.append(s)
    return out


def aligned_start(end: datetime, window_s: float, bucket_s: int) -> datetime:
    """The start of a window of about `window_s` ending at `end` made of whole buckets: the
    bucket holding `end` is the last of `window_s // bucket_s` buckets (DuckDB's grid)."""
    width = timedelta(seconds=bucket_s)
    current = ORIGIN + width * ((end - ORIGIN) // width)
    return current - width * (max(1, int(window_s // bucket_s)) - 1)


def with_tail(
    head: PerformanceMetrics, tail: PerformanceMetrics, start: datetime
) -> PerformanceMetrics:
    """The metrics of [start, tail.end): `head`'s buckets from `start` until `tail` begins,
    then `tail`'s. What a view polling every second needs without re-reading the whole
    window: `tail` covers the last bucket or two. Both must share the bucket width and start
    on its grid; buckets of `head` that late events or labels have changed since stay as they
    were, so re-read the whole window now and then."""
    if head.bucket_s != tail.bucket_s:
        raise ValueError("head and tail must have the same bucket width")
    if tail.start > head.end:
        raise ValueError("the tail must begin before the head ends: there would be a hole")
    kept = [b for b in head.buckets if start <= b.bucket < tail.start]
    return PerformanceMetrics(
        model_id=tail.model_id, start=start, end=tail.end, bucket_s=tail.bucket_s,
        positive_class=tail.positive_class, buckets=kept + list(tail.buckets),
    )  # fmt: skip


def _version_order(version: str | None) -> tuple[int, int]:
    if version is None:
        return (1, 0)
    digits = version.lstrip("v")
    return (0, int(digits)) if digits.isdigit() else (0, 1 << 30)
