"""The prediction path: route a request through the sticky splitter, predict with a cached
model, log the event durably, answer.

Nothing on this path touches the database except the group-committed event write: models,
their schemas, loaded estimators and each environment's splitter are cached in memory and
refreshed when a deployment revision is committed (the manager notifies this service).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl
from threadpoolctl import threadpool_limits

from core.domain import DeploymentRevision, FeatureType, Model, Prediction, Task
from core.errors import Conflict, InvalidInput, MlcError, NotFound
from core.jsonable import to_jsonable
from core.monitoring.ingest import EventWriter
from core.registry import ModelRegistry
from core.serving import requests as req
from core.serving.splitter import TrafficSplitter
from core.training.data import model_dtypes

if TYPE_CHECKING:
    from core.features.online import EntityFeatures

MAX_BATCH = 10_000
INLINE_BUDGET_MS = 10.0
"""A request that a route answers within this (lately) may be answered on the server's
event loop, see `PredictionService.answers_at_once`."""
log = logging.getLogger(__name__)
_thread = threading.local()


class _NotInMemory(Exception):
    """`predict(from_memory=True)` would have read the store or loaded a model."""


_estimators_loaded = 0
"""Models loaded by this process so far: a model may bring the first OpenMP runtime."""


def _one_openmp_thread() -> None:
    """Predict single-threaded in this thread. A small batch through an OpenMP-parallel
    estimator (hist gradient boosting) from a server's worker thread costs ~5 ms more with a
    thread team than with one thread (measured: 14 vs 9 ms per request), and the team's idle
    thread spins in a barrier between requests, taking half a core from them (it made p99
    15 ms instead of 9). The server's own concurrency is the parallelism.

    OpenMP limits are per calling thread, and only reach runtimes already loaded: scikit-learn
    loads its own with the first model. So each worker thread sets the limit again whenever
    a model has been loaded since it last did (a first request can beat the model preload)."""
    if getattr(_thread, "limited_at", -1) != _estimators_loaded:
        threadpool_limits(limits=1, user_api="openmp")
        _thread.limited_at = _estimators_loaded


@dataclass(frozen=True)
class _Loaded:
    version: str
    number: int
    estimator: Any
    schema: dict[str, FeatureType]
    classes: list[Any] | None
    labels: list[Any] = field(init=False)
    """`classes` as answered (JSON-ready), by the estimator's class index."""
    class_names: list[str] = field(init=False)
    """`classes` as the keys of answered probabilities."""
    dtypes: dict[str, pl.DataType] = field(init=False)
    """`schema` as the frame the estimator reads (`model_dtypes`)."""

    def __post_init__(self) -> None:
        # Once per loaded version, not per request.
        object.__setattr__(self, "labels", to_jsonable(list(self.classes or ())))
        object.__setattr__(self, "class_names", [str(c) for c in self.classes or ()])
        object.__setattr__(self, "dtypes", model_dtypes(self.schema))


@dataclass
class _Route:
    revision: int
    splitter: TrafficSplitter
    known: frozenset[str] | None = None
    """Every feature some version of this map reads; filled on the first request."""
    lone_ms: float | None = None
    """What answering a lone request has cost lately (a moving average)."""
    item_ms: float | None = None
    """What answering a batch has cost lately, per item (a moving average)."""

    def note(self, items: int, took_ms: float) -> None:
        """Remember what answering `items` requests took, all models loaded."""
        if items == 1:
            self.lone_ms = _average(self.lone_ms, took_ms)
        else:
            self.item_ms = _average(self.item_ms, took_ms / items)

    def expected_ms(self, items: int) -> float | None:
        """What answering `items` requests should take, if known. For a batch this scales
        the recent cost per item, which spreads a batch's fixed cost (about a lone
        request's) over its items: a batch smaller than the usual is under-estimated by at
        most that fixed cost, a larger one over-estimated."""
        if items == 1:
            return self.lone_ms
        return None if self.item_ms is None else self.item_ms * items


def _average(last: float | None, now: float) -> float:
    return now if last is None else 0.8 * last + 0.2 * now


class PredictionService:
    def __init__(
        self,
        registry: ModelRegistry,
        deployments: Any,
        writer: EventWriter,
        *,
        cache_size: int = 16,
        entity_features: EntityFeatures | None = None,
    ) -> None:
        self.registry = registry
        self.deployments = deployments
        self.writer = writer
        self.entity_features = entity_features
        """Fetches the online features of a request that names an `entity` (feature store)."""
        self._models: dict[str, Model] = {}
        self._loaded: OrderedDict[tuple[str, str], _Loaded] = OrderedDict()
        self._loading: dict[tuple[str, str], threading.Lock] = {}
        """A lock per version being loaded (see `_load`)."""
        self._routes: dict[tuple[str, str], _Route] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._warmers: list[threading.Thread] = []
        self._running = 0
        """Predictions under way, in any thread."""
        deployments.subscribe(self._on_revision)

    # --- data plane ---------------------------------------------------------------------

    def predict(
        self,
        model: str,
        requests: Sequence[Any],
        environment: str = "production",
        *,
        from_memory: bool = False,
    ) -> list[Prediction]:
        if not requests:
            raise InvalidInput("no prediction requests in the body")
        if len(requests) > MAX_BATCH:
            raise InvalidInput(f"at most {MAX_BATCH} requests per batch")
        with self._lock:
            self._running += 1
        try:
            return self._predict(model, requests, environment, from_memory)
        finally:
            with self._lock:
                self._running -= 1

    def _predict(
        self, model: str, requests: Sequence[Any], environment: str, from_memory: bool
    ) -> list[Prediction]:
        started = time.perf_counter()
        info = self._model(model, from_memory)
        route = self._route(model, environment, from_memory)
        warm = self._all_loaded(model, route)
        if self.entity_features is not None:  # `entity` → its features; explicit ones win
            requests = self.entity_features.enrich(model, route.splitter.traffic, requests)
        raw_ids = []
        for i, item in enumerate(requests):
            if not isinstance(item, dict):
                raise InvalidInput(f"item {i}: a request must be a JSON object")
            raw_ids.append(item.get("request_id"))
        fresh = req.new_ids(raw_ids.count(None))
        client_ids = len(fresh) < len(raw_ids)
        fresh_ids = iter(fresh)
        ids = [
            next(fresh_ids) if raw is None else req.request_id(raw, i, required=True)
            for i, raw in enumerate(raw_ids)
        ]
        units = [
            rid if (unit := item.get("unit_id")) is None else str(unit)
            for rid, item in zip(ids, requests, strict=True)
        ]
        assigned = route.splitter.assign_many(units)
        by_version: dict[str, list[int]] = {}
        for i, version in enumerate(assigned):
            by_version.setdefault(version, []).append(i)
        answers: list[tuple[str, Any, dict[str, float] | None]] = [("", None, None)] * len(ids)
        """Per item: the version that answered, its prediction and class probabilities."""
        regression = info.task is Task.REGRESSION
        done: list[tuple[Any, ...]] = []
        """Per answered item: request id, version number, unit, features, label, value, score."""
        # Every version that may serve this model: a feature one of them reads is not unknown.
        if route.known is None:
            route.known = frozenset(
                name
                for v in route.splitter.traffic
                for name in self._load(model, v, from_memory).schema
            )
        known = route.known
        for version, indices in by_version.items():
            loaded = self._load(model, version, from_memory)
            _one_openmp_thread()
            checked = [
                req.check_features(requests[i].get("features"), loaded.schema, i, known)
                for i in indices
            ]
            # `check_features` typed every value as `model_dtypes` wants it, so this is the
            # frame `to_model_frame` would give, without its cast pass (~0.2 ms a request).
            X = pl.DataFrame(checked, schema=loaded.dtypes, orient="row")
            try:
                probas = None
                if (
                    info.task is Task.CLASSIFICATION
                    and loaded.classes
                    and hasattr(loaded.estimator, "predict_proba")
                ):
                    # One pass through the pipeline: the label is the most probable class,
                    # which is what `predict` returns for every catalogue classifier.
                    proba = loaded.estimator.predict_proba(X)
                    labels = [loaded.labels[j] for j in proba.argmax(axis=1).tolist()]
                    probas = proba.tolist()  # lists once, not numpy indexing per row
                else:
                    labels = to_jsonable(loaded.estimator.predict(X).tolist())
            except Exception as e:
                raise MlcError(
                    f"{model}:{version} failed to predict: {type(e).__name__}: {e}"
                ) from e
            names = loaded.class_names
            binary = len(names) == 2
            for row_no, i in enumerate(indices):
                label = labels[row_no]
                probs = None
                score = None
                if probas is not None:
                    probs = dict(zip(names, probas[row_no], strict=True))
                    if binary:
                        score = probas[row_no][1]
                answers[i] = (version, label, probs)
                done.append((
                    ids[i], loaded.number, units[i],
                    orjson.dumps(requests[i].get("features")).decode(),
                    None if regression else str(label), float(label) if regression else None,
                    score,
                ))  # fmt: skip
        latency = (time.perf_counter() - started) * 1000.0
        now = req.now_naive()
        # In `repo.columns("prediction_events")` order (the writer checks the width).
        events = [
            (model, rid, now, number, environment, unit, None, feats, label, value, score,
             latency, None, "gateway")
            for rid, number, unit, feats, label, value, score in done
        ]  # fmt: skip
        self.writer.write_rows("prediction_events", events, dedup=client_ids)
        if warm:  # a time including a model load says nothing of the next request
            route.note(len(requests), (time.perf_counter() - started) * 1000.0)
        latency = round(latency, 3)
        return [
            Prediction(rid, version, label, latency, probs)
            for rid, (version, label, probs) in zip(ids, answers, strict=True)
        ]

    def predict_at_once(
        self, model: str, environment: str, requests: Sequence[Any]
    ) -> list[Prediction] | None:
        """`predict`, for a server's event loop: only when `answers_at_once`, and never
        reading the store or loading a model (a deploy may land between the check and the
        prediction). None when it cannot, with nothing written: predict in a worker thread."""
        if not self.answers_at_once(model, environment, requests):
            return None
        try:
            return self.predict(model, requests, environment, from_memory=True)
        except _NotInMemory:
            return None

    def answers_at_once(self, model: str, environment: str, requests: Sequence[Any]) -> bool:
        """True when `predict` of `requests` should not block for long: requests (no
        `entity` to look up) to a route that answered as many from memory within
        `INLINE_BUDGET_MS` lately, while no group commit is under way to wait behind; and,
        for a batch, while no other prediction runs. A server may then predict on its event
        loop rather than hand the request to a worker thread and back (that hop cost ~0.4 ms
        at p50 for a lone request and ~0.6 ms for a batch of 100, measured);
        `predict_at_once` still declines should the model or a version have left memory
        since. Batches that arrive together still go to worker threads, where one's
        `predict_proba` can run while another holds the GIL."""
        n = len(requests)
        route = self._routes.get((model, environment))
        if not n or route is None or (expected := route.expected_ms(n)) is None:
            return False
        return (
            expected <= INLINE_BUDGET_MS
            and self.writer.idle
            and (n == 1 or not self._running)
            and all(type(r) is dict and "entity" not in r for r in requests)
        )

    def _all_loaded(self, model: str, route: _Route) -> bool:
        return all((model, v) in self._loaded for v in route.splitter.traffic)

    def log_events(
        self, model: str, items: Sequence[Any] | bytes, *, max_items: int = MAX_BATCH
    ) -> int:
        """Log-only events: a list of objects, or the raw JSON body of such a list."""
        info = self._model(model)
        if not isinstance(items, bytes | bytearray):
            _batch_size(items)
        frame = req.events_frame_fast(
            model, info.task, self._schema_of_model(info), items, max_items=max_items
        )
        return self.writer.write("prediction_events", frame)

    def record_actuals(self, model: str, items: Sequence[Any]) -> int:
        info = self._model(model)
        _batch_size(items)
        return self.writer.write("actuals", req.actuals_frame(model, info.task, items))

    # --- caches -------------------------------------------------------------------------

    def _model(self, name: str, from_memory: bool = False) -> Model:
        model = self._models.get(name)
        if model is None:
            if from_memory:
                raise _NotInMemory(name)
            model = self.registry.get_model(name)
            self._models[name] = model
        return model

    def _schema_of_model(self, model: Model) -> dict[str, FeatureType]:
        return {f.name: f.type for f in model.features}

    def _route(self, model: str, environment: str, from_memory: bool = False) -> _Route:
        key = (model, environment)
        route = self._routes.get(key)
        if route is None:
            if from_memory:
                raise _NotInMemory(model)
            rev = self.deployments.current(model, environment)
            if rev is None:
                raise Conflict(f"{model} has no {environment} deployment: deploy a version first")
            route = self._remember(rev)
        return route

    def _remember(self, rev: DeploymentRevision) -> _Route:
        route = _Route(
            rev.revision, TrafficSplitter(rev.traffic, salt=f"{rev.model_id}/{rev.environment}")
        )
        with self._lock:
            current = self._routes.get((rev.model_id, rev.environment.value))
            if current is None or current.revision <= rev.revision:
                self._routes[(rev.model_id, rev.environment.value)] = route
        return route

    def _on_revision(self, rev: DeploymentRevision) -> None:
        self._remember(rev)
        thread = threading.Thread(target=self._warm, args=(rev,), name="mlc-warm", daemon=True)
        with self._lock:
            self._warmers = [t for t in self._warmers if t.is_alive()] + [thread]
        thread.start()

    def close(self) -> None:
        """Wait for model preloads: they read the store, which is about to close."""
        with self._lock:
            warmers, self._warmers = self._warmers, []
        for thread in warmers:
            thread.join(timeout=30)

    def warm_all(self) -> None:
        """Load every deployed version now, so no request pays for a cold model."""
        for rev in self.deployments.all_current():
            self._remember(rev)
            self._warm(rev)

    def _warm(self, rev: DeploymentRevision) -> None:
        for version in rev.traffic:
            try:
                self._load(rev.model_id, version)
            except Exception:  # a broken artifact is reported by the request that needs it
                log.warning("could not preload %s:%s", rev.model_id, version, exc_info=True)

    def _load(self, model: str, version: str, from_memory: bool = False) -> _Loaded:
        global _estimators_loaded
        key = (model, version)
        with self._lock:
            hit = self._loaded.get(key)
            if hit is not None:
                self._loaded.move_to_end(key)
                return hit
            if from_memory:
                raise _NotInMemory(f"{model}:{version}")
            # Once per version: a request arriving while the preload (or another request)
            # loads it waits for that load rather than deserialising a second copy.
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                hit = self._loaded.get(key)
            if hit is not None:
                return hit
            try:
                v = self.registry.get_version(model, version)
                estimator = self.registry.load_estimator(model, version)  # sha256-checked
                schema = _version_schema(v.validation, v.signature, self._model(model))
                loaded = _Loaded(v.version, v.number, estimator, schema, v.signature.get("classes"))
                with self._lock:
                    _estimators_loaded += 1
                    self._loaded[key] = loaded
                    while len(self._loaded) > self._cache_size:
                        self._loaded.popitem(last=False)
                return loaded
            finally:
                with self._lock:
                    self._loading.pop(key, None)


def _batch_size(items: Sequence[Any]) -> None:
    if not isinstance(items, list):
        raise InvalidInput("the body must be a JSON list")
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} items per batch")


def _version_schema(
    validation: dict[str, Any] | None, signature: dict[str, Any], model: Model
) -> dict[str, FeatureType]:
    """The features a version reads: as trained by mlc, else the model's declared schema."""
    trained = (validation or {}).get("features")
    if trained:
        return {k: FeatureType(t) for k, t in trained.items()}
    declared = {f.name: f.type for f in model.features}
    inferred = signature.get("feature_types") or {}
    declared = {**{k: FeatureType(t) for k, t in inferred.items()}, **declared}
    inputs = signature.get("inputs") or list(declared)
    if not inputs:
        raise NotFound(f"{model.id}: the version records no input features; cannot serve it")
    return {name: declared.get(name, FeatureType.NUMERIC) for name in inputs}
