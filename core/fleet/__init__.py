"""The fleet at a glance: each model's traffic, health, drift, alerts and experiments, and one
model's health per version (`core.fleet.service`)."""

from core.fleet.service import (
    DRIFT_WINDOW_S,
    MIN_RATE_S,
    ONSET_LOOKBACK_S,
    WINDOW_S,
    ABTestSummary,
    FleetService,
    ModelHealth,
    RolloutSummary,
    VersionHealth,
    VersionsHealth,
    check_window,
    rate_seconds,
    window_text,
)

__all__ = [
    "DRIFT_WINDOW_S",
    "MIN_RATE_S",
    "ONSET_LOOKBACK_S",
    "WINDOW_S",
    "ABTestSummary",
    "FleetService",
    "ModelHealth",
    "RolloutSummary",
    "VersionHealth",
    "VersionsHealth",
    "check_window",
    "rate_seconds",
    "window_text",
]
