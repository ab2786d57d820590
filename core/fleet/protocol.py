"""The fleet's operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.fleet.service import WINDOW_S, ModelHealth, VersionsHealth


class Fleet(Protocol):
    """The fleet at a glance, and one model's health per version."""

    def fleet_status(self, window_s: float = WINDOW_S) -> list[ModelHealth]:
        """Every model: production/staging traffic, health over the last `window_s` of
        production traffic (each row names its interval), drift share over at least 5 min
        (cached ~20 s), firing alerts, tests and rollout."""
        ...

    def health_by_version(
        self, model: str, *, window_s: float = WINDOW_S, end: datetime | None = None
    ) -> VersionsHealth:
        """One model's traffic per version over the last `window_s` seconds up to `end`
        (default: now), every environment's: requests/s, errors, latency, quality."""
        ...
