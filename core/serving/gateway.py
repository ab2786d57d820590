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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl
from threadpoolctl import threadpool_limits

from core.domain import DeploymentRevision, FeatureType, Ingested, Model, Prediction, Task
from core.errors import Conflict, InvalidInput, MlcError, NotFound
from core.events import fields as req
from core.events import frames
from core.events.writer import EventWriter
from core.jsonable import to_jsonable
from core.registry import ModelRegistry
from core.serving import preflight
from core.serving.splitter import TrafficSplitter
from core.training.data import model_dtypes
from storage.repos import events as events_repo
from storage.repos import training as training_repo

if TYPE_CHECKING:
    from core.features.online import EntityFeatures

MAX_BATCH = 10_000
INLINE_BUDGET_MS = 10.0
"""A request that a route answers within this (lately) may be answered on the server's
event loop, see `PredictionService.answers_at_once`."""
RETRY_BROKEN_S = 10.0
"""A version whose artifact failed to load is tried again after this long; meanwhile its
share of the traffic fails at once, naming the load's error."""
PREFLIGHT_VALID_S = 30.0
"""A version that passed its pre-flight check this recently (and is still loaded) passes
again without reloading: one change checks before its transaction and again inside it."""
MAX_ERROR_CHARS = 500
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
class _Version:
    """What serving a version needs besides its estimator, from the registry alone: its
    requests can be checked before (and whether or not) its artifact loads."""

    version: str
    number: int
    schema: dict[str, FeatureType]
    classes: list[Any] | None
    labels: list[Any] = field(init=False)
    """`classes` as answered (JSON-ready), by the estimator's class index."""
    class_names: list[str] = field(init=False)
    """`classes` as the keys of answered probabilities."""
    dtypes: dict[str, pl.DataType] = field(init=False)
    """`schema` as the frame the estimator reads (`model_dtypes`)."""

    def __post_init__(self) -> None:
        # Once per version, not per request.
        object.__setattr__(self, "labels", to_jsonable(list(self.classes or ())))
        object.__setattr__(self, "class_names", [str(c) for c in self.classes or ()])
        object.__setattr__(self, "dtypes", model_dtypes(self.schema))


@dataclass(frozen=True)
class _Loaded:
    meta: _Version
    estimator: Any


class _Unloadable(Exception):
    """A version's artifact did not load lately; `str()` is the original error's class and
    message."""


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
        self._versions: dict[tuple[str, str], _Version] = {}
        self._loaded: OrderedDict[tuple[str, str], _Loaded] = OrderedDict()
        self._broken: dict[tuple[str, str], tuple[float, str]] = {}
        """(model, version) → when its artifact last failed to load, and the error."""
        self._preflighted: dict[tuple[str, str], float] = {}
        """(model, version) → when it last passed its pre-flight check."""
        self._loading: dict[tuple[str, str], threading.Lock] = {}
        """A lock per version being loaded (see `_load`)."""
        self._routes: dict[tuple[str, str], _Route] = {}
        self._cache_size = cache_size
        self.event_window = req.EventWindow.from_env()
        """How far from now a log-only event's or an actual's time may be."""
        self._fits: dict[str, req.Fits] = {}
        """Per model: what its log-only events and actuals must fit (see `_fitted`)."""
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
        if not requests or len(requests) > MAX_BATCH:
            error = InvalidInput(
                f"at most {MAX_BATCH} requests per batch"
                if requests
                else "no prediction requests in the body"
            )
            self.refused(model, environment, len(requests), error)
            raise error
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
        try:
            info = self._model(model, from_memory)
            route = self._route(model, environment, from_memory)
            if self.entity_features is not None:  # `entity` → its features; explicit ones win
                requests = self.entity_features.enrich(model, route.splitter.traffic, requests)
            groups, ids, units, client_ids = self._checked(model, route, requests, from_memory)
        except InvalidInput as e:
            self.refused(model, environment, len(requests), e)
            raise
        warm = self._all_loaded(model, route)
        shared = time.perf_counter() - started
        """What every item waited for, whichever version serves it: parsing, routing, checks."""
        regression = info.task is Task.REGRESSION
        answers: list[Prediction | None] = [None] * len(ids)
        events: list[tuple[Any, ...]] = []
        now = req.now_naive()
        failures: list[str] = []
        for meta, indices, checked in groups:
            # Each version loads, predicts and fails on its own, and its events carry the
            # time of its own work (plus the shared part): a slow or broken canary shows as
            # itself, never in the stable version's latency or errors.
            began = time.perf_counter()
            error = None
            try:
                labels, probas = _infer(
                    info.task, self._load(model, meta.version, from_memory), checked
                )
            except _NotInMemory:
                raise
            except _Unloadable as e:
                error = str(e)
            except Exception as e:
                error = _error_text(e)
            latency = (shared + time.perf_counter() - began) * 1000.0
            answered = round(latency, 3)
            if error is not None:
                failures.append(f"{model}:{meta.version} failed: {error}")
                for i in indices:
                    answers[i] = Prediction(ids[i], meta.version, None, answered, None, error)
                    events.append((
                        model, ids[i], now, meta.number, environment, units[i], None,
                        orjson.dumps(requests[i].get("features")).decode(),
                        None, None, None, latency, error, "gateway",
                    ))  # fmt: skip
                continue
            names = meta.class_names
            binary = len(names) == 2
            for row_no, i in enumerate(indices):
                label = labels[row_no]
                probs = None
                score = None
                if probas is not None:
                    probs = dict(zip(names, probas[row_no], strict=True))
                    if binary:
                        score = probas[row_no][1]
                answers[i] = Prediction(ids[i], meta.version, label, answered, probs)
                # In `repo.columns("prediction_events")` order (the writer checks the width).
                events.append((
                    model, ids[i], now, meta.number, environment, units[i], None,
                    orjson.dumps(requests[i].get("features")).decode(),
                    None if regression else str(label), float(label) if regression else None,
                    score, latency, None, "gateway",
                ))  # fmt: skip
        # Failed predictions are events too, written through the same durable path before
        # anyone hears of them: error rates, alerts, guardrails and A/B tests count them.
        self.writer.write_rows("prediction_events", events, dedup=client_ids)
        if failures:
            if len(failures) == len(groups):  # nothing answered: the request failed
                raise MlcError("; ".join(failures))
        elif warm:  # a time including a model load says nothing of the next request
            route.note(len(requests), (time.perf_counter() - started) * 1000.0)
        return answers  # type: ignore[return-value]  # every item was answered

    def _checked(
        self, model: str, route: _Route, requests: Sequence[Any], from_memory: bool
    ) -> tuple[list[tuple[_Version, list[int], list[dict[str, Any]]]], list[str], list[str], bool]:
        """Client input checked for every item before any version works on it, so a refused
        request is the client's error and never a version's: (per version: its metadata,
        the items it serves and their checked features), request ids, units, and whether a
        client named ids (which then need deduplication)."""
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
            rid if (unit := item.get("unit_id")) is None else req.unit_id(unit, i)
            for i, (rid, item) in enumerate(zip(ids, requests, strict=True))
        ]
        assigned = route.splitter.assign_many(units)
        by_version: dict[str, list[int]] = {}
        for i, version in enumerate(assigned):
            by_version.setdefault(version, []).append(i)
        # Every version that may serve this model: a feature one of them reads is not unknown.
        if route.known is None:
            route.known = frozenset(
                name
                for v in route.splitter.traffic
                for name in self._meta(model, v, from_memory).schema
            )
        known = route.known
        groups = []
        for version, indices in by_version.items():
            meta = self._meta(model, version, from_memory)
            checked = [
                req.check_features(requests[i].get("features"), meta.schema, i, known)
                for i in indices
            ]
            groups.append((meta, indices, checked))
        return groups, ids, units, client_ids

    def refused(self, model: str, environment: str, items: int, error: MlcError) -> None:
        """Count a request refused as invalid client input apart from the versions' traffic
        (the `invalid` count and rate per model); a request naming no known model is not
        counted, nor one the writer cannot take now (it is refused either way)."""
        try:
            self._model(model)
        except NotFound:
            return
        row = (model, req.now_naive(), environment, items, str(error)[:500], "gateway")
        try:
            self.writer.write_rows("invalid_requests", [row], wait=False, dedup=False)
        except MlcError:
            log.debug("could not count an invalid request to %s", model, exc_info=True)

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
    ) -> Ingested:
        """Log-only events: a list of objects, or the raw JSON body of such a list. Each must
        fit the model (`req.Fits`); says how many were received and how many were new."""
        info = self._model(model)
        if not isinstance(items, bytes | bytearray):
            _batch_size(items)
        schema = self._schema_of_model(info)
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
        _batch_size(items)
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
            except _Unloadable:  # logged; its share of the requests fails, naming why
                pass
            except Exception:
                log.warning("could not preload %s:%s", rev.model_id, version, exc_info=True)

    def _meta(self, model: str, version: str, from_memory: bool = False) -> _Version:
        key = (model, version)
        meta = self._versions.get(key)
        if meta is None:
            if from_memory:
                raise _NotInMemory(f"{model}:{version}")
            v = self.registry.get_version(model, version)
            schema = _version_schema(v.validation, v.signature, self._model(model))
            meta = _Version(v.version, v.number, schema, v.signature.get("classes"))
            with self._lock:
                self._versions[key] = meta
        return meta

    def _load(self, model: str, version: str, from_memory: bool = False) -> _Loaded:
        key = (model, version)
        with self._lock:
            hit = self._loaded.get(key)
            if hit is not None:
                self._loaded.move_to_end(key)
                return hit
            if from_memory:
                raise _NotInMemory(f"{model}:{version}")
            broken = self._broken.get(key)
            if broken is not None and time.monotonic() - broken[0] < RETRY_BROKEN_S:
                # Its share of the traffic fails at once instead of each request paying
                # for (and queueing behind) another doomed load.
                raise _Unloadable(broken[1])
            # Once per version: a request arriving while the preload (or another request)
            # loads it waits for that load rather than deserialising a second copy.
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                hit = self._loaded.get(key)
                broken = self._broken.get(key)
            if hit is not None:
                return hit
            if broken is not None and time.monotonic() - broken[0] < RETRY_BROKEN_S:
                raise _Unloadable(broken[1])
            try:
                loaded = _Loaded(
                    self._meta(model, version),
                    self.registry.load_estimator(model, version),  # sha256-checked
                )
            except Exception as e:
                text = _error_text(e)
                log.warning("%s:%s cannot be loaded: %s", model, version, text)
                with self._lock:
                    self._broken[key] = (time.monotonic(), text)
                raise _Unloadable(text) from e
            finally:
                with self._lock:
                    self._loading.pop(key, None)
            self._adopt(key, loaded)
            return loaded

    def _adopt(self, key: tuple[str, str], loaded: _Loaded) -> None:
        global _estimators_loaded
        with self._lock:
            _estimators_loaded += 1
            self._broken.pop(key, None)
            self._loaded[key] = loaded
            self._loaded.move_to_end(key)
            while len(self._loaded) > self._cache_size:
                self._loaded.popitem(last=False)

    # --- pre-flight ---------------------------------------------------------------------

    def preflight(self, model: str, versions: Iterable[str]) -> None:
        """Load each version afresh from its artifact and have it answer smoke predictions
        (`core.serving.preflight`); raise `Conflict` naming the first that fails, before any
        caller writes a revision. A version that passes is cached, ready for its traffic,
        and passes again without reloading for `PREFLIGHT_VALID_S`: a caller that checks
        before its transaction does not pay twice."""
        info = self._model(model)
        for version in versions:
            key = (model, version)
            with self._lock:
                passed = self._preflighted.get(key) if key in self._loaded else None
            if passed is not None and time.monotonic() - passed < PREFLIGHT_VALID_S:
                continue
            try:
                meta = self._meta(model, version)
                loaded = _Loaded(meta, self.registry.load_estimator(model, version))
                rows = self._smoke_rows(model, meta)
                checked = [req.check_features(r, meta.schema, i) for i, r in enumerate(rows)]
                labels, probas = _infer(info.task, loaded, checked)
                preflight.check_answers(
                    len(rows), labels, probas, regression=info.task is Task.REGRESSION
                )
            except Exception as e:
                text = _error_text(e)
                with self._lock:
                    self._broken[key] = (time.monotonic(), text)
                    self._preflighted.pop(key, None)
                raise Conflict(
                    f"{model}:{version} failed its pre-flight check, so it takes no traffic"
                    f" and nothing was changed: {text}"
                ) from e
            self._adopt(key, loaded)
            with self._lock:
                self._preflighted[key] = time.monotonic()

    def _smoke_rows(self, model: str, meta: _Version) -> list[dict[str, Any]]:
        with self.registry.store.read() as conn:
            text = training_repo.profile(conn, f"{model}:{meta.version}")
            if text is None:
                recent = events_repo.recent_features(conn, model, limit=3)
        if text is not None and (rows := preflight.profile_rows(meta.schema, orjson.loads(text))):
            return rows
        if text is None and recent:
            return [{k: v for k, v in orjson.loads(f).items() if k in meta.schema} for f in recent]
        return preflight.missing_row(meta.schema)


def _infer(task: Task, loaded: _Loaded, checked: list[dict[str, Any]]) -> tuple[list[Any], Any]:
    """(JSON-ready labels, class probabilities as lists or None) of checked rows."""
    meta = loaded.meta
    _one_openmp_thread()
    # `check_features` typed every value as `model_dtypes` wants it, so this is the frame
    # `to_model_frame` would give, without its cast pass (~0.2 ms a request).
    X = pl.DataFrame(checked, schema=meta.dtypes, orient="row")
    if task is Task.CLASSIFICATION and meta.classes and hasattr(loaded.estimator, "predict_proba"):
        # One pass through the pipeline: the label is the most probable class, which is
        # what `predict` returns for every catalogue classifier.
        proba = loaded.estimator.predict_proba(X)
        labels = [meta.labels[j] for j in proba.argmax(axis=1).tolist()]
        return labels, proba.tolist()  # lists once, not numpy indexing per row
    return to_jsonable(loaded.estimator.predict(X).tolist()), None


def _error_text(error: BaseException) -> str:
    """An error as events store it: its class and message, bounded."""
    message = str(error.message if isinstance(error, MlcError) else error)
    return f"{type(error).__name__}: {message}"[:MAX_ERROR_CHARS]


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
