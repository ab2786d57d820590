"""The fleet's operations of the engine (`core.engine.Engine`). Each is declared here once, with
its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.fleet.service import WINDOW_S, FleetService, VersionsHealth
from core.forward import forward, in_process


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    fleet: FleetService


class Fleet(Protocol):
    """The fleet at a glance, and one model's health per version."""

    fleet_status = forward("fleet", FleetService.fleet_status)

    def health_by_version(
        self, model: str, *, window_s: float = WINDOW_S, end: datetime | None = None
    ) -> VersionsHealth:
        """One model's traffic per version over the last `window_s` seconds up to `end`
        (default: now), every environment's: requests/s, errors, latency, quality."""
        parts = in_process(self, _Parts)
        return parts.fleet.health_by_version(model, window_s, end)
