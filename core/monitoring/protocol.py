"""Monitoring's operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.monitoring.drift import ConceptDrift, FeatureDistribution
from core.monitoring.drift_report import DriftReport
from core.monitoring.metrics import PerformanceMetrics


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
        ...

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
        ...

    def detect_concept_drift(
        self, model: str, *, version: str | None = None, window_s: float = 86400
    ) -> ConceptDrift:
        """ADWIN and Page–Hinkley change points in the labelled error stream."""
        ...

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
        ...
