"""The data plane's operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from typing import Any, Protocol

from core.domain import Ingested, Prediction


class Serving(Protocol):
    """Predictions, log-only events from external servers, and late labels."""

    def predict(
        self, model: str, requests: list[dict[str, Any]], *, environment: str = "production"
    ) -> list[Prediction]:
        """Each request: `{"features": {...}, "request_id"?: str, "unit_id"?: str}`."""
        ...

    def log_events(self, model: str, events: list[dict[str, Any]]) -> Ingested:
        """Log-only prediction events from an external server; says how many were received
        and how many were new (a request id stored before, or twice in the batch, is stored
        once). The owner's server hands its raw bodies to `LocalEngine.log_posted_events`."""
        ...

    def record_actuals(self, model: str, actuals: list[dict[str, Any]]) -> Ingested:
        """Late labels: `[{"request_id", "actual"}]`; says how many were received and new."""
        ...
