"""Quality metrics of predictions against labels, one definition for the validation gates
(`core.training.validator`, on a holdout) and live monitoring (`core.monitoring.window`, on
labelled events). scikit-learn is imported on first use: the owner imports this at start-up.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Mapping
from typing import Any, Protocol, cast

import numpy as np

from core.domain import Task
from core.errors import InvalidInput

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier")
REGRESSION_METRICS = ("mae", "rmse", "r2")


def task_of(task: str) -> Task:
    try:
        return Task(task)
    except ValueError:
        raise InvalidInput(
            f"unknown task {task!r}; choose one of: {', '.join(t.value for t in Task)}"
        ) from None


def metric_names(task: str) -> tuple[str, ...]:
    """The metrics `compute_metrics` can produce for a task."""
    return CLASSIFICATION_METRICS if task_of(task) is Task.CLASSIFICATION else REGRESSION_METRICS


class _SkMetrics(Protocol):
    """The part of `sklearn.metrics` used here, typed (scikit-learn ships no stubs)."""

    def accuracy_score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float: ...
    def precision_score(
        self, y_true: np.ndarray, y_pred: np.ndarray, *, zero_division: float, **avg: object
    ) -> float: ...
    def recall_score(
        self, y_true: np.ndarray, y_pred: np.ndarray, *, zero_division: float, **avg: object
    ) -> float: ...
    def f1_score(
        self, y_true: np.ndarray, y_pred: np.ndarray, *, zero_division: float, **avg: object
    ) -> float: ...
    def roc_auc_score(
        self,
        y_true: np.ndarray,
        y_score: np.ndarray,
        *,
        multi_class: str = ...,
        labels: np.ndarray = ...,
    ) -> float: ...
    def log_loss(self, y_true: np.ndarray, y_proba: np.ndarray, *, labels: np.ndarray) -> float: ...
    def brier_score_loss(self, y_true: np.ndarray, y_proba: np.ndarray) -> float: ...
    def mean_absolute_error(self, y_true: np.ndarray, y_pred: np.ndarray) -> float: ...
    def mean_squared_error(self, y_true: np.ndarray, y_pred: np.ndarray) -> float: ...
    def r2_score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float: ...


def _sklearn_metrics() -> _SkMetrics:
    # Imported on first use: the owner imports this module at start-up.
    from sklearn import metrics  # pyright: ignore[reportMissingTypeStubs]  # none exist

    return cast(_SkMetrics, metrics)


def _finite(values: Mapping[str, Any]) -> dict[str, float]:
    # An undefined metric (AUC on a single-class holdout, say) is left out, never NaN.
    return {name: float(v) for name, v in values.items() if math.isfinite(float(v))}


def _has_missing(values: np.ndarray) -> bool:
    if values.dtype.kind == "O":
        return any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values)
    return values.dtype.kind in "fc" and not bool(np.all(np.isfinite(values)))


def _classification(
    y_true: np.ndarray, y_pred: np.ndarray, y_score: Any, classes: Any
) -> dict[str, float]:
    cls = (
        np.asarray(classes) if classes is not None else np.unique(np.concatenate([y_true, y_pred]))
    )
    if cls.ndim != 1 or len(cls) < 2:
        raise InvalidInput("classification needs at least two classes")
    unseen = sorted({str(v) for v in np.setdiff1d(y_true, cls)})
    if unseen:
        raise InvalidInput(f"holdout has labels the model never saw: {', '.join(unseen[:10])}")
    skm = _sklearn_metrics()
    out: dict[str, float] = {"accuracy": skm.accuracy_score(y_true, y_pred)}
    binary = len(cls) == 2
    pos = cls[-1]
    avg: dict[str, Any] = (
        {"average": "binary", "pos_label": pos} if binary else {"average": "macro"}
    )
    out["precision"] = skm.precision_score(y_true, y_pred, zero_division=0, **avg)
    out["recall"] = skm.recall_score(y_true, y_pred, zero_division=0, **avg)
    out["f1"] = skm.f1_score(y_true, y_pred, zero_division=0, **avg)
    if y_score is None:
        return out
    score = np.asarray(y_score, dtype=float)
    if binary and score.ndim == 1:
        score = np.column_stack([1.0 - score, score])
    if score.ndim != 2 or score.shape != (len(y_true), len(cls)):
        raise InvalidInput(
            f"y_score has shape {score.shape}; expected ({len(y_true)}, {len(cls)}) probabilities"
        )
    if len(np.unique(y_true)) > 1:
        # A class absent from y_true leaves one-vs-rest AUC undefined: omit it.
        with contextlib.suppress(ValueError):
            out["roc_auc"] = (
                skm.roc_auc_score(y_true == pos, score[:, -1])
                if binary
                else skm.roc_auc_score(y_true, score, multi_class="ovr", labels=cls)
            )
    out["log_loss"] = skm.log_loss(y_true, score, labels=cls)
    if binary:
        out["brier"] = skm.brier_score_loss(y_true == pos, score[:, -1])
    else:
        onehot = np.asarray(y_true[:, None] == cls[None, :], dtype=float)
        out["brier"] = float(((score - onehot) ** 2).sum(axis=1).mean())
    return out


def compute_metrics(
    task: str, y_true: Any, y_pred: Any, y_score: Any = None, classes: Any = None
) -> dict[str, float]:
    """Holdout metrics as python floats; metrics that are undefined here are omitted.

    Classification: `classes` is the estimator's `classes_` (its last entry is the positive
    class of a binary task); derived from the labels when None. `y_score` is the
    `predict_proba` matrix (n, n_classes), or for a binary task the positive-class probability
    as a 1-D array; without it roc_auc, log_loss and brier are omitted. Binary precision,
    recall, f1 are for the positive class; multiclass ones are macro averages, roc_auc is
    one-vs-rest macro, and brier is the mean over rows of the squared error summed over the
    one-hot classes (range 0..2, as sklearn's multiclass `brier_score_loss`); binary brier is
    the usual positive-class form (range 0..1).
    Regression: mae, rmse, r2.
    """
    kind = task_of(task)
    yt, yp = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if len(yt) == 0:
        raise InvalidInput("cannot compute metrics on an empty holdout")
    if len(yt) != len(yp):
        raise InvalidInput(f"y_true has {len(yt)} rows but y_pred has {len(yp)}")
    for label, arr in (("y_true", yt), ("y_pred", yp)):
        if _has_missing(arr):
            raise InvalidInput(f"{label} has missing values; drop unlabelled rows first")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined metrics are dropped below instead
        if kind is Task.CLASSIFICATION:
            raw = _classification(yt, yp, y_score, classes)
        else:
            skm = _sklearn_metrics()
            yt, yp = yt.astype(float), yp.astype(float)
            raw = {
                "mae": skm.mean_absolute_error(yt, yp),
                "rmse": math.sqrt(skm.mean_squared_error(yt, yp)),
                "r2": skm.r2_score(yt, yp) if len(yt) > 1 else math.nan,
            }
    return _finite(raw)
