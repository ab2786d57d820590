"""What the server hosting a `LocalEngine` asks of it beyond the `Serving` protocol
(`core/serving/operations.py`): forms and limits of the server, not of the operations."""

from __future__ import annotations

from typing import Any

from core.domain import Ingested, Prediction
from core.errors import MlcError
from core.serving.gateway import PredictionService


class LocalServing:
    """The hosting server's data-plane calls, over `PredictionService`."""

    serving: PredictionService

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

    def log_posted_events(self, model: str, body: bytes, *, max_items: int) -> Ingested:
        """For the server hosting this engine: the raw JSON body of a batch posted to it,
        parsed straight into columns, refused whole when it holds more than the server's
        `max_items` (`mlc serve --max-batch`). A limit and a form of the server, not of the
        operation, so not in the `Engine` protocol."""
        return self.serving.log_events(model, body, max_items=max_items)
