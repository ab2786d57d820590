"""`LocalEngine`'s data plane (`core.serving.protocol.Serving`), in this process, and what the
server hosting the engine asks of it beyond the protocol."""

from __future__ import annotations

from typing import Any

from core.domain import Ingested, Prediction
from core.errors import MlcError
from core.serving.gateway import PredictionService


class LocalServing:
    """Data-plane operations over `PredictionService`."""

    serving: PredictionService

    def predict(
        self, model: str, requests: list[dict[str, Any]], *, environment: str = "production"
    ) -> list[Prediction]:
        return self.serving.predict(model, requests, environment)

    def count_invalid(self, model: str, environment: str, items: int, error: MlcError) -> None:
        """Count a prediction request refused before it reached the engine (a body that is
        not JSON, too large, or not a list of objects): invalid input, charged to no version."""
        self.serving.refused(model, environment, items, error)

    def predict_at_once(
        self, model: str, requests: list[Any], *, environment: str = "production"
    ) -> list[Prediction] | None:
        """For the server hosting this engine, on its event loop: `predict` when that cannot
        block for long (no store read, no model load, a few ms at most), else None with
        nothing written (`PredictionService.predict_at_once`)."""
        return self.serving.predict_at_once(model, environment, requests)

    def log_events(self, model: str, events: list[dict[str, Any]]) -> Ingested:
        return self.serving.log_events(model, events)

    def log_posted_events(self, model: str, body: bytes, *, max_items: int) -> Ingested:
        """For the server hosting this engine: the raw JSON body of a batch posted to it,
        parsed straight into columns, refused whole when it holds more than the server's
        `max_items` (`mlc serve --max-batch`). A limit and a form of the server, not of the
        operation, so not in the `Engine` protocol."""
        return self.serving.log_events(model, body, max_items=max_items)

    def record_actuals(self, model: str, actuals: list[dict[str, Any]]) -> Ingested:
        return self.serving.record_actuals(model, actuals)
