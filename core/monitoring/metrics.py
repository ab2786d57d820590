"""`PerformanceMonitor` (seed interface): prediction events in, metrics over time out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.clock import as_utc, utcnow
from core.domain import Model, Task
from core.errors import InvalidInput
from core.events import frames
from core.events.writer import EventWriter
from core.names import version_number
from core.registry import ModelRegistry
from storage.repos import events as repo
from storage.repos import rollups
from storage.store import Store

MAX_BUCKETS = 10_000


@dataclass
class MetricsBucket:
    bucket: datetime
    version: str | None
    requests: int
    error_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    prediction_mean: float | None
    """Regression: the mean prediction; binary classification: the mean positive score."""
    positive_rate: float | None
    """Binary classification: the share of predictions of the positive class."""
    labelled: int
    accuracy: float | None = None
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    mae: float | None = None
    rmse: float | None = None


@dataclass
class PerformanceMetrics:
    model_id: str
    start: datetime
    end: datetime
    bucket_s: int
    positive_class: str | None
    buckets: list[MetricsBucket] = field(default_factory=list)


class PerformanceMonitor:
    def __init__(self, store: Store, registry: ModelRegistry, writer: EventWriter) -> None:
        self.store = store
        self.registry = registry
        self.writer = writer

    def track_prediction(
        self, model_id: str, prediction: dict[str, Any], actual: Any = None
    ) -> None:
        """Log one prediction (and its label, if known) without waiting for the commit."""
        model = self.registry.get_model(model_id)
        frame = frames.events_frame(
            model_id, model.task, {f.name: f.type for f in model.features}, [prediction]
        )
        self.writer.write("prediction_events", frame, wait=False)
        if actual is not None:
            labels = frames.actuals_frame(
                model_id, model.task, [{"request_id": prediction["request_id"], "actual": actual}]
            )
            self.writer.write("actuals", labels, wait=False)

    def get_performance_metrics(
        self,
        model_id: str,
        time_range: tuple[datetime, datetime] | None = None,
        *,
        bucket_s: int = 60,
        version: str | None = None,
        environment: str | None = None,
    ) -> PerformanceMetrics:
        """Metrics per time bucket and version over `time_range` (default: the last hour),
        of every environment's events or only `environment`'s. Buckets start on multiples of
        the width from DuckDB's origin (2000-01-03 00:00 UTC): for the usual widths, on
        multiples of the width since the epoch."""
        model = self.registry.get_model(model_id)
        end = as_utc(time_range[1]) if time_range else utcnow()
        start = as_utc(time_range[0]) if time_range else end - timedelta(hours=1)
        if not start < end:
            raise InvalidInput("the time range is empty: start must be before end")
        if bucket_s < 1:
            raise InvalidInput("the bucket must be at least 1 second")
        if (end - start).total_seconds() / bucket_s > MAX_BUCKETS:
            raise InvalidInput(
                f"more than {MAX_BUCKETS:,} buckets: choose a larger bucket or a shorter range"
            )
        number = None
        if version is not None:
            number = version_number(version)
            if number is None:
                number = self.registry.get_version(model_id, version).number
        positive = self.positive_class(model)
        with self.store.read() as conn:
            # Per-minute history over all environments reads the sealed minutes' rollups.
            frame = (
                rollups.per_minute(conn, model_id, start, end, version=number, positive=positive)
                if bucket_s == 60 and environment is None
                else None
            )
            if frame is None:
                frame = repo.bucketed(
                    conn, model_id, start, end, bucket_s, version=number, positive=positive,
                    environment=environment,
                )  # fmt: skip
        buckets = [_bucket(row, model.task, positive) for row in frame.iter_rows(named=True)]
        return PerformanceMetrics(model_id, start, end, bucket_s, positive, buckets)

    def window_summary(
        self, model: Model, start: datetime, end: datetime, *, environment: str | None = None
    ) -> MetricsBucket | None:
        """The whole window [start, end) as one bucket, all versions pooled (version None):
        one scan, no per-class counts (precision, recall and F1 stay None). None without
        events. What a status line needs, cheaply enough to ask every second."""
        start, end = as_utc(start), as_utc(end)
        if not start < end:
            raise InvalidInput("the time range is empty: start must be before end")
        width = max(1, math.ceil((end - start).total_seconds()))
        with self.store.read() as conn:
            frame = repo.bucketed(
                conn, model.id, start, end, width, environment=environment, origin=start,
                by_version=False,
            )  # fmt: skip
        if frame.height == 0:
            return None
        return _bucket(frame.row(0, named=True), model.task, None)

    def window_by_version(
        self, model: Model, start: datetime, end: datetime, *, environment: str | None = None
    ) -> list[MetricsBucket]:
        """`window_summary` per version: one bucket covering [start, end) for each version
        with events in it (by version number; events without a version last)."""
        start, end = as_utc(start), as_utc(end)
        if not start < end:
            raise InvalidInput("the time range is empty: start must be before end")
        width = max(1, math.ceil((end - start).total_seconds()))
        with self.store.read() as conn:
            frame = repo.bucketed(
                conn, model.id, start, end, width, environment=environment, origin=start
            )
        # In the query's order: by version number, NULL (DuckDB's default) last.
        return [_bucket(row, model.task, None) for row in frame.iter_rows(named=True)]

    def invalid_requests(
        self, model_id: str, start: datetime, end: datetime, *, environment: str | None = None
    ) -> int:
        """Predictions asked for in [start, end) by requests refused as invalid input."""
        with self.store.read() as conn:
            return repo.invalid_count(
                conn, model_id, as_utc(start), as_utc(end), environment=environment
            )

    def positive_class(self, model: Model | str) -> str | None:
        """The class whose rate, precision and recall are reported (binary classifiers)."""
        if isinstance(model, str):
            model = self.registry.get_model(model)
        if model.task is not Task.CLASSIFICATION:
            return None
        versions = self.registry.list_versions(model.id)
        for v in reversed(versions):
            classes = v.signature.get("classes")
            if classes and len(classes) == 2:
                return str(classes[-1])
        return None


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _bucket(row: dict[str, Any], task: Task, positive: str | None) -> MetricsBucket:
    latency = row["latency"] or [None, None, None]
    out = MetricsBucket(
        bucket=as_utc(row["bucket"]),
        version=None if row["version"] is None else f"v{row['version']}",
        requests=int(row["requests"]),
        error_rate=float(row["error_rate"]),
        latency_p50_ms=_num(latency[0]),
        latency_p95_ms=_num(latency[1]),
        latency_p99_ms=_num(latency[2]),
        prediction_mean=_num(
            row["prediction_mean"] if task is Task.REGRESSION else row["score_mean"]
        ),
        positive_rate=_num(row["positive_rate"]) if positive is not None else None,
        labelled=int(row["labelled"]),
    )
    if out.labelled:
        if task is Task.REGRESSION:
            out.mae, out.rmse = _num(row["mae"]), _num(row["rmse"])
        else:
            out.accuracy = _num(row["accuracy"])
            if positive is not None:
                tp, fp, fn = int(row["tp"]), int(row["fp"]), int(row["fn"])
                out.precision = tp / (tp + fp) if tp + fp else None
                out.recall = tp / (tp + fn) if tp + fn else None
                if (
                    out.precision is not None
                    and out.recall is not None
                    and out.precision + out.recall
                ):
                    out.f1 = 2 * out.precision * out.recall / (out.precision + out.recall)
    return out
