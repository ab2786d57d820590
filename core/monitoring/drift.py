"""`DriftDetector`: live traffic of a version against the reference profile stored with it.

The training set is never re-read: a trained version carries its profile (types, quantiles,
histogram edges, category shares, prediction distribution) and a sorted sample per numeric
feature; the current window's features are parsed straight from the stored event JSON.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
import polars as pl

from core.clock import as_utc, utcnow
from core.domain import DeploymentRevision, Task
from core.errors import InvalidInput, MlcError, NotFound
from core.monitoring.drift_types import CachedDrift, ConceptDrift, FeatureDistribution
from core.monitoring.event_features import features_frame
from core.names import version_number
from core.registry import ModelRegistry
from core.stats.concept import change_points
from core.stats.distribution import category_shares, numeric_histogram
from core.stats.drift import (
    DriftAnalysis,
    detect_drift,
    pseudo_sample,
    reference_shares,
    string_counts,
)
from storage.repos import events as events_repo
from storage.repos import training as training_repo
from storage.store import Store

MAX_CURRENT = 200_000
DRIFT_CACHE_S = 20.0
"""How long a cached drift analysis is served before it is refreshed (in the background)."""
MAX_CACHED = 256

log = logging.getLogger(__name__)


class ServingRevisions(Protocol):
    """What drift needs of the deployments: the revision an environment serves."""

    def current(self, model: str, env: str) -> DeploymentRevision | None: ...


class DriftDetector:
    def __init__(
        self, store: Store, registry: ModelRegistry, deployments: ServingRevisions
    ) -> None:
        self.store = store
        self.registry = registry
        self.deployments = deployments
        self._cache: dict[tuple[str, str | None, float], tuple[float, CachedDrift]] = {}
        self._refreshing: dict[tuple[str, str | None, float], threading.Thread] = {}
        self._cache_lock = threading.Lock()
        self._closed = False

    # --- a cached analysis, for screens that ask every second -------------------------------

    def cached_drift(
        self,
        model_id: str,
        version: str | None = None,
        *,
        window: timedelta = timedelta(hours=1),
        max_age_s: float = DRIFT_CACHE_S,
        min_current: int = 100,
    ) -> CachedDrift:
        """The drift analysis of `version` (default: the one serving most of production) over
        the last `window`, computed at most every `max_age_s` seconds per model.

        A missing entry is computed now. An entry older than `max_age_s` is returned as it is
        while a background thread refreshes it (so a caller polling every second never waits
        for the analysis); one older than three times that is recomputed now.
        """
        key = (model_id, version, window.total_seconds())
        now = time.monotonic()
        with self._cache_lock:
            found = self._cache.get(key)
        if found is not None:
            at, cached = found
            age = now - at
            if age <= max_age_s:
                return cached
            if age <= 3 * max_age_s:
                self._refresh_later(key, window, min_current)
                return cached
        return self._refresh(key, window, min_current)

    def _refresh(
        self, key: tuple[str, str | None, float], window: timedelta, min_current: int
    ) -> CachedDrift:
        model_id, version, _ = key
        computed_at = utcnow()
        try:
            analysed, analysis = self.detect_drift(
                model_id, version, window=window, end=computed_at, min_current=min_current
            )
            cached = CachedDrift(analysed, analysis, computed_at, window.total_seconds())
        except NotFound:
            if version is not None:
                raise
            self.registry.get_model(model_id)  # an unknown model is an error, not "no data"
            cached = CachedDrift(None, None, computed_at, window.total_seconds())
        with self._cache_lock:
            self._cache[key] = (time.monotonic(), cached)
            if len(self._cache) > MAX_CACHED:
                oldest = min(self._cache, key=lambda k: self._cache[k][0])
                del self._cache[oldest]
        return cached

    def _refresh_later(
        self, key: tuple[str, str | None, float], window: timedelta, min_current: int
    ) -> None:
        with self._cache_lock:
            if self._closed or key in self._refreshing:
                return
            thread = threading.Thread(
                target=self._refresh_quietly, args=(key, window, min_current),
                name="mlc-drift-refresh", daemon=True,
            )  # fmt: skip
            self._refreshing[key] = thread
        thread.start()

    def _refresh_quietly(
        self, key: tuple[str, str | None, float], window: timedelta, min_current: int
    ) -> None:
        try:
            self._refresh(key, window, min_current)
        except Exception as e:  # an expected refusal is news, anything else a bug
            if isinstance(e, MlcError):
                log.info("drift refresh of %s failed: %s", key[0], e)
            else:
                log.exception("drift refresh of %s failed", key[0])
            with self._cache_lock:
                self._cache.pop(key, None)
        finally:
            with self._cache_lock:
                self._refreshing.pop(key, None)

    def close(self) -> None:
        """Wait for background refreshes (they read the store, which is about to close)."""
        with self._cache_lock:
            self._closed = True
            threads = list(self._refreshing.values())
        for thread in threads:
            thread.join(timeout=30)

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
        current = features_frame(events, profile)
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
        """ADWIN and Page–Hinkley over the labelled error stream: river 0.26's detectors with its
        defaults, each restarting from an empty window after a detection (river's points)."""
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
        found: dict[str, list[dict[str, Any]]] = {}
        for detector in ("adwin", "page_hinkley"):
            points = change_points(errors.tolist(), detector)
            found[detector] = [{"index": i, "ts": as_utc(times[i]).isoformat()} for i in points]
        detected = bool(found["adwin"] or found["page_hinkley"])
        return ConceptDrift(
            model_id=model_id, version=f"v{number}", labelled=len(errors),
            error_rate=float(errors.mean()) if len(errors) else None, detected=detected,
            adwin=found["adwin"], page_hinkley=found["page_hinkley"],
        )  # fmt: skip

    def feature_distribution(
        self,
        model_id: str,
        feature: str,
        version: str | None = None,
        *,
        window: timedelta = timedelta(hours=1),
        bins: int = 20,
        top: int = 15,
        end: datetime | None = None,
        min_current: int = 100,
    ) -> FeatureDistribution:
        """`feature`'s reference distribution (the version's stored profile and sample; the
        training set is never re-read) next to its distribution over the last `window` of the
        version's successful traffic, with the feature's drift verdict.

        Numeric: `bins` common equal-width bins (see `numeric_histogram`); categorical and
        binary: the `top` categories and `__other__`. No current values is not an error: the
        current shares are empty and the count is 0.
        """
        if window.total_seconds() <= 0:
            raise InvalidInput("the window must be positive")
        if not 1 <= bins <= 200:
            raise InvalidInput(f"bins must be between 1 and 200, got {bins}")
        model = self.registry.get_model(model_id)
        end = as_utc(end) if end else utcnow()
        start = end - window
        number = self._version(model_id, version, start, end)
        version_id = f"{model_id}:v{number}"
        with self.store.read() as conn:
            profile_text = training_repo.profile(conn, version_id)
            samples = training_repo.reference_samples(conn, version_id) if profile_text else {}
        profile: dict[str, Any] | None = json.loads(profile_text) if profile_text else None
        profiled: dict[str, dict[str, Any]] = (profile or {}).get("features", {})
        fp = profiled.get(feature)
        declared = {f.name: f.type.value for f in model.features}
        if fp is None and feature not in declared:
            known = sorted(set(profiled) | set(declared))
            raise NotFound(
                f"{model_id} v{number} has no feature {feature!r}"
                + (f"; its features: {', '.join(known)}" if known else "")
            )
        kind = str(fp["type"]) if fp is not None else declared[feature]
        if kind not in ("numeric", "categorical", "binary"):
            raise InvalidInput(f"feature {feature!r} is {kind}: it has no distribution to show")
        with self.store.read() as conn:
            events = events_repo.recent_for_version(conn, model_id, number, start, end, MAX_CURRENT)
        current = features_frame(events, {"features": {feature: {"type": kind}}})
        out = FeatureDistribution(
            model_id=model_id, version=f"v{number}", feature=feature, kind=kind,
            window_s=window.total_seconds(),
            status="ok" if fp is not None else "no_reference",
            reference_count=int(fp.get("count") or 0) if fp is not None else 0,
        )  # fmt: skip
        column = current[feature]
        if kind == "numeric":
            values = column.cast(pl.Float64)
            finite = values.filter(values.is_finite()).to_numpy()
            out.current_count = len(finite)
            out.current_missing = column.len() - len(finite)
            reference = np.empty(0)
            if fp is not None:
                stored = samples.get(feature)
                reference = pseudo_sample(fp) if stored is None else np.asarray(stored, dtype=float)
            out.edges, out.reference, out.current = numeric_histogram(reference, finite, bins)
        else:
            counts, out.current_missing = string_counts(column, kind)
            out.current_count = sum(counts.values())
            ref_shares = reference_shares(fp, kind) if fp is not None else {}
            out.categories, out.reference, out.current = category_shares(ref_shares, counts, top)
        if fp is not None:
            verdict = detect_drift(
                {"rows": profile["rows"] if profile else 0, "features": {feature: fp}},
                {feature: samples[feature]} if feature in samples else {},
                current.select(feature),
                min_current=min_current,
            )
            out.drift = verdict.features[0] if verdict.features else None
            if verdict.status != "ok":
                out.status = verdict.status
        return out

    def _version(self, model_id: str, version: str | None, start: datetime, end: datetime) -> int:
        if version is not None:
            number = version_number(version)
            return (
                number
                if number is not None
                else self.registry.get_version(model_id, version).number
            )
        current = self.deployments.current(model_id, "production")
        if current is not None and current.traffic:
            traffic = current.traffic
            return int(max(traffic, key=lambda v: traffic[v])[1:])
        with self.store.read() as conn:
            busiest = events_repo.busiest_version(conn, model_id, start, end)
        if busiest is None:
            raise NotFound(f"{model_id} has no production deployment and no events: name a version")
        return busiest
