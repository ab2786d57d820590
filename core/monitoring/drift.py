"""`DriftDetector`: live traffic of a version against the reference profile stored with it.

The training set is never re-read: a trained version carries its profile (types, quantiles,
histogram edges, category shares, prediction distribution) and a sorted sample per numeric
feature; the current window's features are parsed straight from the stored event JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from core.clock import as_utc, utcnow
from core.domain import Task
from core.errors import InvalidInput, NotFound
from core.names import version_number
from core.registry import ModelRegistry
from core.stats.concept import change_points
from core.stats.drift import DriftAnalysis, detect_drift
from storage.repos import events as events_repo
from storage.repos import training as training_repo
from storage.store import Store

MAX_CURRENT = 200_000


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


class DriftDetector:
    def __init__(self, store: Store, registry: ModelRegistry, deployments: object) -> None:
        self.store = store
        self.registry = registry
        self.deployments = deployments

    def detect_drift(
        self,
        model_id: str,
        version: str | None = None,
        *,
        window: timedelta = timedelta(hours=1),
        end: datetime | None = None,
        min_current: int = 100,
    ) -> tuple[str, DriftAnalysis]:
        """(the version analysed, its analysis) over the window ending at `end` (now)."""
        if window.total_seconds() <= 0:
            raise InvalidInput("the drift window must be positive")
        self.registry.get_model(model_id)
        end = as_utc(end) if end else utcnow()
        start = end - window
        number = self._version(model_id, version, start, end)
        version_id = f"{model_id}:v{number}"
        with self.store.read() as conn:
            profile_text = training_repo.profile(conn, version_id)
            samples = training_repo.reference_samples(conn, version_id)
            events = events_repo.recent_for_version(conn, model_id, number, start, end, MAX_CURRENT)
        if profile_text is None:
            # Like "insufficient data": a state to show, never an alert.
            return f"v{number}", DriftAnalysis(
                features=[], drift_share=0.0, dataset_drift=False, prediction=None,
                status="no_reference", current_size=events.height,
                reason=f"v{number} has no reference profile (it was not trained by mlc)",
            )  # fmt: skip
        profile = json.loads(profile_text)
        current = _features(events, profile)
        predictions: dict[str, np.ndarray] = {}
        if events.height:
            for column, key in (
                ("value", "prediction"),
                ("label", "prediction"),
                ("score", "score"),
            ):
                series = events[column].drop_nulls()
                if series.len() == events.height and key not in predictions:
                    predictions[key] = series.to_numpy()
        analysis = detect_drift(
            profile,
            samples,
            current,
            current_predictions=predictions or None,
            min_current=min_current,
        )
        return f"v{number}", analysis

    def concept_drift(
        self,
        model_id: str,
        version: str | None = None,
        *,
        window: timedelta = timedelta(hours=24),
        end: datetime | None = None,
    ) -> ConceptDrift:
        """ADWIN and Page–Hinkley (river's defaults) over the labelled error stream."""
        model = self.registry.get_model(model_id)
        end = as_utc(end) if end else utcnow()
        start = end - window
        number = self._version(model_id, version, start, end)
        with self.store.read() as conn:
            stream = events_repo.labelled_stream(conn, model_id, number, start, end)
        if model.task is Task.CLASSIFICATION:
            errors = (stream["label"] != stream["actual_label"]).cast(pl.Float64).to_numpy()
        else:
            errors = (stream["value"] - stream["actual_value"]).abs().to_numpy()
        times = stream["ts"].to_list()
        found = {}
        for detector in ("adwin", "page_hinkley"):
            points = change_points(errors.tolist(), detector)
            found[detector] = [{"index": i, "ts": as_utc(times[i]).isoformat()} for i in points]
        detected = bool(found["adwin"] or found["page_hinkley"])
        return ConceptDrift(
            model_id=model_id, version=f"v{number}", labelled=len(errors),
            error_rate=float(errors.mean()) if len(errors) else None, detected=detected,
            adwin=found["adwin"], page_hinkley=found["page_hinkley"],
        )  # fmt: skip

    def _version(self, model_id: str, version: str | None, start: datetime, end: datetime) -> int:
        if version is not None:
            number = version_number(version)
            return (
                number
                if number is not None
                else self.registry.get_version(model_id, version).number
            )
        current = self.deployments.current(model_id, "production")  # type: ignore[attr-defined]
        if current is not None and current.traffic:
            return int(max(current.traffic, key=current.traffic.get)[1:])
        with self.store.read() as conn:
            busiest = events_repo.busiest_version(conn, model_id, start, end)
        if busiest is None:
            raise NotFound(f"{model_id} has no production deployment and no events: name a version")
        return busiest


def _features(events: pl.DataFrame, profile: dict) -> pl.DataFrame:
    """The features column (JSON objects) as typed columns named as in the profile."""
    types = {name: fp.get("type") for name, fp in profile.get("features", {}).items()}
    # Binary features may arrive as true/false or 1/0: decode them as text, then map.
    dtype = pl.Struct(
        {
            name: pl.Float64 if kind == "numeric" else pl.String
            for name, kind in types.items()
            if kind != "datetime"
        }
    )
    if events.height == 0:
        return pl.DataFrame(
            schema={n: pl.String if t == "categorical" else pl.Float64 for n, t in types.items()}
        )
    frame = events["features"].fill_null("{}").str.json_decode(dtype).struct.unnest()
    binary = [name for name, kind in types.items() if kind == "binary"]
    return frame.with_columns(
        pl.col(name).replace_strict(
            {"true": 1.0, "1": 1.0, "1.0": 1.0, "false": 0.0, "0": 0.0, "0.0": 0.0},
            default=None,
            return_dtype=pl.Float64,
        )
        for name in binary
    )
