"""`LocalEngine`'s fleet operations (`core.fleet.protocol.Fleet`), in this process."""

from __future__ import annotations

from datetime import datetime

from core.fleet.service import WINDOW_S, FleetService, VersionsHealth
from core.forward import forward


class LocalFleet:
    """The fleet overview and per-version health, over `FleetService`."""

    fleet: FleetService

    fleet_status = forward("fleet", FleetService.fleet_status)

    def health_by_version(
        self, model: str, *, window_s: float = WINDOW_S, end: datetime | None = None
    ) -> VersionsHealth:
        return self.fleet.health_by_version(model, window_s, end)
