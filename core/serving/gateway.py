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
from collections.abc import Iterable, Sequence
from typing import Any, cast

import orjson

from core.domain import DeploymentRevision, Model, Prediction, Task
from core.errors import Conflict, InvalidInput, MlcError, NotFound
from core.events import fields as req
from core.events.writer import EventWriter
from core.registry import ModelRegistry
from core.serving import preflight
from core.serving import versions as served
from core.serving.log_only import MAX_BATCH, LogOnlyIngest
from core.serving.routes import EntityLookup, Route, route_requests
from core.serving.splitter import TrafficSplitter
from core.serving.versions import Loaded, NotInMemory, Unloadable, VersionMeta, error_text, infer

INLINE_BUDGET_MS = 10.0
"""A request that a route answers within this (lately) may be answered on the server's
event loop, see `PredictionService.answers_at_once`."""
RETRY_BROKEN_S = 10.0
"""A version whose artifact failed to load is tried again after this long; meanwhile its
share of the traffic fails at once, naming the load's error."""
PREFLIGHT_VALID_S = 30.0
"""A version that passed its pre-flight check this recently (and is still loaded) passes
again without reloading: one change checks before its transaction and again inside it."""
log = logging.getLogger(__name__)


class PredictionService(LogOnlyIngest):
    def __init__(
        self,
        registry: ModelRegistry,
        deployments: Any,
        writer: EventWriter,
        *,
        cache_size: int = 16,
        entity_features: EntityLookup | None = None,
    ) -> None:
        self.registry = registry
        self.deployments = deployments
        self.writer = writer
        self.entity_features = entity_features
        """Fetches the online features of a request that names an `entity` (feature store)."""
        self._models: dict[str, Model] = {}
        self._versions: dict[tuple[str, str], VersionMeta] = {}
        self._loaded: OrderedDict[tuple[str, str], Loaded] = OrderedDict()
        self._broken: dict[tuple[str, str], tuple[float, str]] = {}
        """(model, version) → when its artifact last failed to load, and the error."""
        self._preflighted: dict[tuple[str, str], float] = {}
        """(model, version) → when it last passed its pre-flight check."""
        self._loading: dict[tuple[str, str], threading.Lock] = {}
        """A lock per version being loaded (see `_load`)."""
        self._routes: dict[tuple[str, str], Route] = {}
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
            groups, ids, units, client_ids = route_requests(
                route, requests, lambda v: self._meta(model, v, from_memory)
            )
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
            outcome: tuple[list[Any], list[list[float]] | None] | str  # str: why it failed
            try:
                outcome = infer(info.task, self._load(model, meta.version, from_memory), checked)
            except NotInMemory:
                raise
            except Unloadable as e:
                outcome = str(e)
            except Exception as e:
                outcome = error_text(e)
            latency = (shared + time.perf_counter() - began) * 1000.0
            answered = round(latency, 3)
            if isinstance(outcome, str):
                error = outcome
                failures.append(f"{model}:{meta.version} failed: {error}")
                for i in indices:
                    answers[i] = Prediction(ids[i], meta.version, None, answered, None, error)
                    events.append((
                        model, ids[i], now, meta.number, environment, units[i], None,
                        orjson.dumps(requests[i].get("features")).decode(),
                        None, None, None, latency, error, "gateway",
                    ))  # fmt: skip
                continue
            labels, probas = outcome
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
        return cast("list[Prediction]", answers)  # every item was answered

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
        except NotInMemory:
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

    def _all_loaded(self, model: str, route: Route) -> bool:
        return all((model, v) in self._loaded for v in route.splitter.traffic)

    # --- caches -------------------------------------------------------------------------

    def _model(self, name: str, from_memory: bool = False) -> Model:
        model = self._models.get(name)
        if model is None:
            if from_memory:
                raise NotInMemory(name)
            model = self.registry.get_model(name)
            self._models[name] = model
        return model

    def _route(self, model: str, environment: str, from_memory: bool = False) -> Route:
        key = (model, environment)
        route = self._routes.get(key)
        if route is None:
            if from_memory:
                raise NotInMemory(model)
            rev = self.deployments.current(model, environment)
            if rev is None:
                raise Conflict(f"{model} has no {environment} deployment: deploy a version first")
            route = self._remember(rev)
        return route

    def _remember(self, rev: DeploymentRevision) -> Route:
        route = Route(
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
            except Unloadable:  # logged; its share of the requests fails, naming why
                pass
            except Exception:
                log.warning("could not preload %s:%s", rev.model_id, version, exc_info=True)

    def _meta(self, model: str, version: str, from_memory: bool = False) -> VersionMeta:
        key = (model, version)
        meta = self._versions.get(key)
        if meta is None:
            if from_memory:
                raise NotInMemory(f"{model}:{version}")
            v = self.registry.get_version(model, version)
            schema = served.version_schema(v.validation, v.signature, self._model(model))
            meta = VersionMeta(v.version, v.number, schema, v.signature.get("classes"))
            with self._lock:
                self._versions[key] = meta
        return meta

    def _load(self, model: str, version: str, from_memory: bool = False) -> Loaded:
        key = (model, version)
        with self._lock:
            hit = self._loaded.get(key)
            if hit is not None:
                self._loaded.move_to_end(key)
                return hit
            if from_memory:
                raise NotInMemory(f"{model}:{version}")
            broken = self._broken.get(key)
            if broken is not None and time.monotonic() - broken[0] < RETRY_BROKEN_S:
                # Its share of the traffic fails at once instead of each request paying
                # for (and queueing behind) another doomed load.
                raise Unloadable(broken[1])
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
                raise Unloadable(broken[1])
            try:
                loaded = Loaded(
                    self._meta(model, version),
                    self.registry.load_estimator(model, version),  # sha256-checked
                )
            except Exception as e:
                text = error_text(e)
                log.warning("%s:%s cannot be loaded: %s", model, version, text)
                with self._lock:
                    self._broken[key] = (time.monotonic(), text)
                raise Unloadable(text) from e
            finally:
                with self._lock:
                    self._loading.pop(key, None)
            self._adopt(key, loaded)
            return loaded

    def _adopt(self, key: tuple[str, str], loaded: Loaded) -> None:
        with self._lock:
            served.note_estimator_loaded()
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
                loaded = Loaded(meta, self.registry.load_estimator(model, version))
                rows = preflight.smoke_rows(self.registry.store, model, meta.version, meta.schema)
                checked = [req.check_features(r, meta.schema, i) for i, r in enumerate(rows)]
                labels, probas = infer(info.task, loaded, checked)
                preflight.check_answers(
                    len(rows), labels, probas, regression=info.task is Task.REGRESSION
                )
            except Exception as e:
                text = error_text(e)
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
