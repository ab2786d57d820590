"""A served version: what serving it needs (`VersionMeta`, from the registry alone), the
loaded estimator, and answering checked requests with it (`infer`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from threadpoolctl import threadpool_limits  # pyright: ignore[reportMissingTypeStubs] it ships none

from core.domain import FeatureType, Model, Task
from core.errors import MlcError, NotFound
from core.jsonable import to_jsonable
from core.model_frame import model_dtypes

MAX_ERROR_CHARS = 500
_thread = threading.local()


class NotInMemory(Exception):
    """`predict(from_memory=True)` would have read the store or loaded a model."""


_estimators_loaded = 0
"""Models loaded by this process so far: a model may bring the first OpenMP runtime."""


def note_estimator_loaded() -> None:
    """Count a model loaded (call under the service's lock), so that each worker thread
    limits OpenMP again (`one_openmp_thread`)."""
    global _estimators_loaded
    _estimators_loaded += 1


def one_openmp_thread() -> None:
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
class VersionMeta:
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
class Loaded:
    meta: VersionMeta
    estimator: Any


class Unloadable(Exception):
    """A version's artifact did not load lately; `str()` is the original error's class and
    message."""


def infer(
    task: Task, loaded: Loaded, checked: list[dict[str, Any]]
) -> tuple[list[Any], list[list[float]] | None]:
    """(JSON-ready labels, class probabilities as lists or None) of checked rows."""
    meta = loaded.meta
    one_openmp_thread()
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


def error_text(error: BaseException) -> str:
    """An error as events store it: its class and message, bounded."""
    message = str(error.message if isinstance(error, MlcError) else error)
    return f"{type(error).__name__}: {message}"[:MAX_ERROR_CHARS]


def version_schema(
    validation: dict[str, Any] | None, signature: dict[str, Any], model: Model
) -> dict[str, FeatureType]:
    """The features a version reads: as trained by mlc, else the model's declared schema."""
    trained: dict[str, str] | None = (validation or {}).get("features")
    if trained:
        return {k: FeatureType(t) for k, t in trained.items()}
    declared = {f.name: f.type for f in model.features}
    inferred: dict[str, str] = signature.get("feature_types") or {}
    declared = {**{k: FeatureType(t) for k, t in inferred.items()}, **declared}
    inputs: list[str] = signature.get("inputs") or list(declared)
    if not inputs:
        raise NotFound(f"{model.id}: the version records no input features; cannot serve it")
    return {name: declared.get(name, FeatureType.NUMERIC) for name in inputs}
