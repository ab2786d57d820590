"""The engine's drift report: one version's traffic over a stated window against its training
reference (`Engine.detect_drift`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.stats.drift import DriftAnalysis


@dataclass
class DriftReport:
    model_id: str
    version: str
    window_s: float
    analysis: DriftAnalysis
    end: datetime | None = None
    """Where the analysed window ends (UTC, the owner's clock): pass it to
    `feature_distribution` to count the same events."""
