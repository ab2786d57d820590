"""`LocalEngine`'s monitoring operations (`core.monitoring.protocol.Monitoring`), in this
process."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.clock import as_utc, utcnow
from core.monitoring.drift import ConceptDrift, DriftDetector, FeatureDistribution
from core.monitoring.drift_report import DriftReport
from core.monitoring.metrics import PerformanceMetrics, PerformanceMonitor


class LocalMonitoring:
    """Metrics and drift over `PerformanceMonitor` and `DriftDetector`; windows in seconds here
    become the services' spans and timedeltas."""

    monitor: PerformanceMonitor
    drift: DriftDetector

    def get_performance_metrics(
        self,
        model: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        bucket_s: int = 60,
        version: str | None = None,
    ) -> PerformanceMetrics:
        span = (start, end or utcnow()) if start is not None else None
        return self.monitor.get_performance_metrics(model, span, bucket_s=bucket_s, version=version)

    def detect_drift(
        self,
        model: str,
        *,
        version: str | None = None,
        window_s: float = 3600,
        min_current: int = 100,
        end: datetime | None = None,
    ) -> DriftReport:
        end = as_utc(end) if end is not None else utcnow()
        analysed, analysis = self.drift.detect_drift(
            model, version, window=timedelta(seconds=window_s), end=end, min_current=min_current
        )
        return DriftReport(model, analysed, window_s, analysis, end)

    def detect_concept_drift(
        self, model: str, *, version: str | None = None, window_s: float = 86400
    ) -> ConceptDrift:
        return self.drift.concept_drift(model, version, window=timedelta(seconds=window_s))

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
        """One feature's training reference next to its `window_s` of traffic up to `end`."""
        return self.drift.feature_distribution(
            model, feature, version, window=timedelta(seconds=window_s), bins=bins, end=end
        )
