"""Monitoring's operations of the engine (`core.engine.Engine`). Each is declared here once, with
its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from core.clock import as_utc, utcnow
from core.forward import in_process
from core.monitoring.drift import ConceptDrift, DriftDetector, FeatureDistribution
from core.monitoring.drift_report import DriftReport
from core.monitoring.metrics import PerformanceMetrics, PerformanceMonitor


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    monitor: PerformanceMonitor
    drift: DriftDetector


class Monitoring(Protocol):
    """Performance metrics per time bucket, data drift and concept drift."""

    def get_performance_metrics(
        self,
        model: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        bucket_s: int = 60,
        version: str | None = None,
    ) -> PerformanceMetrics:
        """Per time bucket and version, from `start` (default: the last hour) to `end`."""
        parts = in_process(self, _Parts)
        span = (start, end or utcnow()) if start is not None else None
        return parts.monitor.get_performance_metrics(
            model, span, bucket_s=bucket_s, version=version
        )

    def detect_drift(
        self,
        model: str,
        *,
        version: str | None = None,
        window_s: float = 3600,
        min_current: int = 100,
        end: datetime | None = None,
    ) -> DriftReport:
        """A version's `window_s` of traffic up to `end` (default: now) against its training
        reference (default version: the one serving most of production)."""
        parts = in_process(self, _Parts)
        end = as_utc(end) if end is not None else utcnow()
        analysed, analysis = parts.drift.detect_drift(
            model, version, window=timedelta(seconds=window_s), end=end, min_current=min_current
        )
        return DriftReport(model, analysed, window_s, analysis, end)

    def detect_concept_drift(
        self, model: str, *, version: str | None = None, window_s: float = 86400
    ) -> ConceptDrift:
        """ADWIN and Page–Hinkley change points in the labelled error stream."""
        parts = in_process(self, _Parts)
        return parts.drift.concept_drift(model, version, window=timedelta(seconds=window_s))

    def feature_distribution(
        self,
        model: str,
        feature: str,
        *,
        version: str | None = None,
        window_s: float = 3600,
        bins: int = 20,
        end: datetime | None = None,
    ) -> FeatureDistribution:
        """One feature's training reference next to its `window_s` of traffic up to `end`
        (default: now; numeric: common bins; categorical: top categories and `__other__`),
        with its drift verdict. A screen showing both passes the drift report's `end` here,
        so the two count the same events."""
        parts = in_process(self, _Parts)
        return parts.drift.feature_distribution(
            model, feature, version, window=timedelta(seconds=window_s), bins=bins, end=end
        )
