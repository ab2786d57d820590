"""Health of one version over a time window, from its prediction events and late labels.

Returns `{metric: (value, samples)}` — the shape rollout guardrails analyse — where samples
is the number of events the value stands on (labelled events for accuracy-like metrics).
Over a whole model (no version), also the predictions refused as invalid input,
`invalid_requests`, and their share of all predictions asked for, `invalid_rate`.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import numpy as np
import polars as pl

from core.domain import Task
from core.errors import InvalidInput
from core.stats.metrics import compute_metrics
from storage.repos import events as repo
from storage.store import Store

Values = dict[str, tuple[float | None, int]]


def window_metrics(
    store: Store,
    model: str,
    task: Task,
    start: datetime,
    end: datetime,
    *,
    version: int | None = None,
    environment: str | None = None,
) -> Values:
    with store.read() as conn:
        frame = repo.window(conn, model, start, end, version=version, environment=environment)
        invalid = (
            None
            if version is not None  # refused input reached no version
            else repo.invalid_count(conn, model, start, end, environment=environment)
        )
    values = metrics_of(frame, task)
    if invalid is not None:
        asked = invalid + frame.height
        values["invalid_requests"] = (float(invalid), asked)
        if asked:
            values["invalid_rate"] = (invalid / asked, asked)
    return values


def errors_named(
    store: Store,
    model: str,
    start: datetime,
    end: datetime,
    *,
    version: int | None = None,
    environment: str | None = None,
) -> str:
    """The window's most frequent errors as one phrase ("" without any), e.g.
    `errors: 61× IntegrityError: artifact … failed its checksum`: what an abort names."""
    with store.read() as conn:
        found = repo.top_errors(conn, model, start, end, version=version, environment=environment)
    return "errors: " + "; ".join(f"{n}× {text}" for text, n in found) if found else ""


def metrics_of(frame: pl.DataFrame, task: Task) -> Values:
    n = frame.height
    out: Values = {"requests": (float(n), n)}
    if n == 0:
        return out
    errors = int(frame["error"].is_not_null().sum())
    out["error_rate"] = (errors / n, n)
    latency = frame["latency_ms"].drop_nulls()
    for q, name in ((0.5, "latency_p50_ms"), (0.95, "latency_p95_ms"), (0.99, "latency_p99_ms")):
        value = latency.quantile(q, "linear") if latency.len() else None
        out[name] = (float(value), latency.len()) if value is not None else (None, 0)
    ok = frame.filter(pl.col("error").is_null())
    if task is Task.REGRESSION:
        values = ok["value"].drop_nulls()
        out["prediction_mean"] = _mean(values)
        labelled = ok.filter(pl.col("value").is_not_null() & pl.col("actual_value").is_not_null())
        if labelled.height:
            m = compute_metrics(
                "regression", labelled["actual_value"].to_numpy(), labelled["value"].to_numpy()
            )
            for name in ("mae", "rmse"):
                out[name] = (m.get(name), labelled.height)
        return out
    scores = ok["score"].drop_nulls()
    out["prediction_mean"] = _mean(scores)
    labelled = ok.filter(pl.col("label").is_not_null() & pl.col("actual_label").is_not_null())
    if labelled.height:
        y_true = labelled["actual_label"].to_numpy()
        y_pred = labelled["label"].to_numpy()
        classes = sorted(set(y_true) | set(y_pred))
        score = labelled["score"]
        y_score = score.to_numpy() if score.null_count() == 0 and len(classes) == 2 else None
        try:
            m = compute_metrics(
                "classification", y_true, y_pred, y_score=y_score, classes=np.array(classes)
            )
        except InvalidInput:
            m = {"accuracy": float((y_true == y_pred).mean())}
        for name in ("accuracy", "precision", "recall", "f1", "roc_auc"):
            if name in m:
                out[name] = (m[name], labelled.height)
    return out


def _mean(values: pl.Series) -> tuple[float | None, int]:
    """(mean, count) of a numeric series without nulls; (None, 0) when it is empty."""
    if not values.len():
        return None, 0
    return float(cast(float, values.mean())), values.len()
