"""What the drift detector returns besides `DriftAnalysis`: concept drift of the labelled
error stream, one feature's two distributions side by side, and a cached analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.stats.drift import DriftAnalysis, FeatureDrift


@dataclass
class ConceptDrift:
    model_id: str
    version: str
    labelled: int
    error_rate: float | None
    """Classification: the error rate; regression: the mean absolute error."""
    detected: bool
    adwin: list[dict[str, Any]]
    page_hinkley: list[dict[str, Any]]


@dataclass(frozen=True)
class CachedDrift:
    """A drift analysis as the cache holds it."""

    version: str | None
    """The version analysed; None when there was nothing to analyse."""
    analysis: DriftAnalysis | None
    """None when the model has no production deployment and no events in the window."""
    computed_at: datetime
    window_s: float


@dataclass
class FeatureDistribution:
    """One feature's reference (training profile) and current (live window) distributions."""

    model_id: str
    version: str
    feature: str
    kind: str
    """numeric | categorical | binary."""
    window_s: float
    edges: list[float] = field(default_factory=list)
    """Numeric: the bins' edges (one more than the shares; the end bins also hold the values
    beyond them). Empty for categorical and binary features."""
    categories: list[str] = field(default_factory=list)
    """Categorical/binary: the categories (binary as "0"/"1"), `__other__` last for the rest.
    Empty for numeric features."""
    reference: list[float] = field(default_factory=list)
    """Share of the reference per bin or category (sums to 1); empty without a reference."""
    current: list[float] = field(default_factory=list)
    """Share of the window's values per bin or category (sums to 1); empty without any."""
    reference_count: int = 0
    """Non-missing values in the training set (the profile's count)."""
    current_count: int = 0
    """Non-missing values in the window."""
    current_missing: int = 0
    drift: FeatureDrift | None = None
    """The feature's verdict, as `detect_drift` computes it; None with too little data."""
    status: str = "ok"
    """ok | insufficient_data (too few current values for a verdict) | no_reference."""
