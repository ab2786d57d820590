"""Log-only events from external model servers and late actuals, checked against the model
they are for (`Fits`: a version it has, a class it predicts, a time near the server's) and
written through the same durable event writer as the gateway's own predictions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from core.domain import Ingested, Model, Task
from core.errors import InvalidInput
from core.events import fields as req
from core.events import frames
from core.events.writer import EventWriter
from core.registry import ModelRegistry

MAX_BATCH = 10_000


class LogOnlyIngest:
    """What `PredictionService` does for events it did not predict itself, with the state
    the service sets: the registry, the writer, `event_window`, `_fits` (per model, what its
    events must fit, as last read) and its cache of models (`_model`)."""

    registry: ModelRegistry
    writer: EventWriter
    event_window: req.EventWindow
    _fits: dict[str, req.Fits]
    _model: Callable[[str], Model]

    def log_events(
        self, model: str, items: Sequence[Any] | bytes, *, max_items: int = MAX_BATCH
    ) -> Ingested:
        """Log-only events: a list of objects, or the raw JSON body of such a list. Each must
        fit the model (`req.Fits`); says how many were received and how many were new."""
        info = self._model(model)
        if not isinstance(items, bytes | bytearray):
            batch_size(items)
        schema = {f.name: f.type for f in info.features}
        frame = self._fitted(
            model,
            lambda fits: frames.events_frame_fast(
                model, info.task, schema, items, max_items=max_items, fits=fits
            ),
        )
        return Ingested(frame.height, self.writer.write("prediction_events", frame))

    def record_actuals(self, model: str, items: Sequence[Any]) -> Ingested:
        """Late labels, each fitting the model (`req.Fits`: a class it predicts, say)."""
        info = self._model(model)
        batch_size(items)
        frame = self._fitted(
            model, lambda fits: frames.actuals_frame(model, info.task, items, fits=fits)
        )
        return Ingested(frame.height, self.writer.write("actuals", frame))

    def _fitted(self, model: str, build: Callable[[req.Fits], pl.DataFrame]) -> pl.DataFrame:
        """`build(fits)` with what the model's events must fit, as remembered; if that
        refuses them, once more with it read afresh (a version registered since, say)."""
        fits = self._fits.get(model)
        if fits is not None:
            try:
                return build(fits)
            except InvalidInput:
                if self._read_fits(model) == fits:
                    raise
        return build(self._read_fits(model))

    def _read_fits(self, model: str) -> req.Fits:
        versions = self.registry.list_versions(model)
        classes = None
        if self._model(model).task is Task.CLASSIFICATION:
            found = [v.signature.get("classes") for v in versions]
            if any(c is not None for c in found):
                labels = (req.label_of(c) for cs in found if cs is not None for c in cs)
                classes = frozenset(label for label in labels if label is not None)
        latest = max((v.number for v in versions), default=0)
        fits = req.Fits(model, latest, classes, self.event_window)
        self._fits[model] = fits
        return fits


def batch_size(items: Sequence[Any]) -> None:
    if not isinstance(items, list):
        raise InvalidInput("the body must be a JSON list")
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} items per batch")
