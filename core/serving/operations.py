"""The data plane's operations of the engine (`core.engine.Engine`). Each is declared here once,
with its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from typing import Any, Protocol

from core.domain import Ingested, Prediction
from core.forward import in_process
from core.serving.gateway import PredictionService


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    serving: PredictionService


class Serving(Protocol):
    """Predictions, log-only events from external servers, and late labels."""

    def predict(
        self, model: str, requests: list[dict[str, Any]], *, environment: str = "production"
    ) -> list[Prediction]:
        """Each request: `{"features": {...}, "request_id"?: str, "unit_id"?: str}`."""
        parts = in_process(self, _Parts)
        return parts.serving.predict(model, requests, environment)

    def log_events(self, model: str, events: list[dict[str, Any]]) -> Ingested:
        """Log-only prediction events from an external server; says how many were received
        and how many were new (a request id stored before, or twice in the batch, is stored
        once). The owner's server hands its raw bodies to `LocalEngine.log_posted_events`."""
        parts = in_process(self, _Parts)
        return parts.serving.log_events(model, events)

    def record_actuals(self, model: str, actuals: list[dict[str, Any]]) -> Ingested:
        """Late labels: `[{"request_id", "actual"}]`; says how many were received and new."""
        parts = in_process(self, _Parts)
        return parts.serving.record_actuals(model, actuals)
