"""The reference profile stored with each model version, so drift detection never has to
re-read the training set.

Numeric values are profiled from one sorted copy per feature: quantiles, histogram counts and
the distinct count all fall out of it without further passes. Missing means null, NaN or ±inf
(the catalogue's imputers treat NaN as missing, and an infinity would poison every moment).
Histogram bins are right-open except the last, which is closed (numpy's `histogram`); the
edges are equal-frequency quantiles of the reference, deduplicated, and are meant to be
reused to bin current data for PSI. Categories are compared as strings: polars' cast to
String (booleans become "true"/"false", integers "0"/"1"); "__other__" is reserved.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import polars as pl

from core.domain import FeatureType, Task
from core.errors import InvalidInput
from core.stats.distribution import OTHER

QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def _f(x: Any) -> float | None:
    """A JSON-safe float: NaN and infinities become None."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _finite_sorted(series: pl.Series, name: str) -> np.ndarray:
    if series.dtype == pl.Boolean:
        series = series.cast(pl.Float64)
    if not series.dtype.is_numeric():
        raise InvalidInput(f"feature {name!r} is declared numeric but its column is {series.dtype}")
    s = series.cast(pl.Float64)
    # is_finite is null for nulls, and filter drops nulls: one pass removes every kind of missing.
    return s.filter(s.is_finite()).sort().to_numpy()


def _quantiles(values: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """numpy's default ("linear") quantiles of an already sorted array, without re-partitioning."""
    pos = probs * (len(values) - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, len(values) - 1)
    frac = pos - lo
    a, b = values[lo], values[hi]
    # numpy's lerp form, so results agree with np.quantile to the last bit in practice.
    return np.where(frac >= 0.5, b - (b - a) * (1 - frac), a + (b - a) * frac)


def _numeric(values: np.ndarray, rows: int, bins: int) -> dict[str, Any]:
    n = len(values)
    out: dict[str, Any] = {"type": FeatureType.NUMERIC.value, "count": n, "missing": rows - n}
    if n == 0:
        empty: dict[str, Any] = {"mean": None, "std": None, "min": None, "max": None}
        quantiles = {str(q): None for q in QUANTILES}
        histogram: dict[str, list[float]] = {"edges": [], "counts": []}
        return out | {"distinct": 0, **empty, "quantiles": quantiles, "histogram": histogram}
    qs = _quantiles(values, np.asarray(QUANTILES))
    edges = np.unique(_quantiles(values, np.linspace(0.0, 1.0, bins + 1)))
    if len(edges) == 1:
        edges = np.repeat(edges, 2)  # a constant feature: one closed bin [c, c]
    # Counts from positions in the sorted values: bin i is [e_i, e_i+1), the last one closed.
    left = np.searchsorted(values, edges, side="left")
    left[-1] = np.searchsorted(values, edges[-1], side="right")
    counts = np.diff(left)
    distinct = 1 + int(np.count_nonzero(values[1:] != values[:-1]))
    return out | {
        "distinct": distinct,
        "mean": _f(np.mean(values)),
        "std": _f(np.std(values, ddof=1)) if n > 1 else None,
        "min": _f(values[0]),
        "max": _f(values[-1]),
        "quantiles": {str(q): _f(v) for q, v in zip(QUANTILES, qs, strict=True)},
        "histogram": {"edges": [_f(e) for e in edges], "counts": [int(c) for c in counts]},
    }


def _as_strings(series: pl.Series) -> pl.Series:
    if series.dtype.is_float():
        series = series.fill_nan(None)
    return series.cast(pl.String)


def _categorical(series: pl.Series, kind: str, max_categories: int) -> dict[str, Any]:
    s = _as_strings(series).drop_nulls()
    n = len(s)
    out: dict[str, Any] = {"type": kind, "count": n, "missing": len(series) - n}
    if n == 0:
        return out | {"distinct": 0, "frequencies": {}}
    # Ties are broken by category so the stored profile is identical run to run.
    vc = s.rename("v").value_counts(name="n").sort(["n", "v"], descending=[True, False])
    names, counts = vc["v"].to_list(), vc["n"].to_numpy()
    freqs = {str(c): float(k) / n for c, k in zip(names[:max_categories], counts, strict=False)}
    if len(names) > max_categories:
        freqs[OTHER] = float(counts[max_categories:].sum()) / n
    return out | {"distinct": len(names), "frequencies": freqs}


def _other(series: pl.Series, kind: str) -> dict[str, Any]:
    s = series.drop_nulls()
    out: dict[str, Any] = {"type": kind, "count": len(s), "missing": len(series) - len(s)}
    temporal = s.dtype.is_temporal() and len(s) > 0
    out["distinct"] = s.n_unique()
    out["min"] = str(s.min()) if temporal else None
    out["max"] = str(s.max()) if temporal else None
    return out


def _feature(series: pl.Series, kind: str, bins: int, max_categories: int) -> dict[str, Any]:
    if kind == FeatureType.NUMERIC:
        return _numeric(_finite_sorted(series, series.name), len(series), bins)
    if kind in (FeatureType.CATEGORICAL, FeatureType.BINARY):
        return _categorical(series, kind, max_categories)
    return _other(series, kind)


def _score_array(values: Any) -> np.ndarray:
    sc = np.asarray(values, dtype=float)
    if sc.ndim == 2 and sc.shape[1] == 2:
        sc = sc[:, 1]  # a binary predict_proba matrix: the positive class is the last column
    if sc.ndim != 1:
        raise InvalidInput(f"scores must be one positive-class score per row, got {sc.shape}")
    return sc


def _looks_like_scores(pred: np.ndarray) -> bool:
    # Predicted labels are strings, ints, bools or whole floats; probabilities are fractional.
    if pred.ndim == 2:
        return True
    if pred.dtype.kind != "f":
        return False
    finite = pred[np.isfinite(pred)]
    return bool(np.any(finite != np.round(finite)))


def _predictions(
    predictions: Any, task: str | None, scores: Any, bins: int, cap: int
) -> dict[str, Any]:
    if task not in {t.value for t in Task}:
        raise InvalidInput(f"profiling predictions needs the task, got {task!r}")
    labels = None if predictions is None else np.asarray(predictions)
    if task == Task.REGRESSION:
        if labels is None or labels.ndim != 1:
            raise InvalidInput("regression predictions must be a one-dimensional array")
        return _numeric(_finite_sorted(pl.Series("p", labels), "prediction"), len(labels), bins)
    if scores is None and labels is not None and _looks_like_scores(labels):
        labels, scores = None, labels
    if labels is not None and labels.ndim != 1:
        raise InvalidInput(f"predicted labels must be one-dimensional, got shape {labels.shape}")
    sc = None if scores is None else _score_array(scores)
    return {
        "type": Task.CLASSIFICATION.value,
        "classes": None
        if labels is None
        else _categorical(pl.Series("p", labels), FeatureType.CATEGORICAL.value, cap),
        "score": None
        if sc is None
        else _numeric(_finite_sorted(pl.Series("s", sc), "score"), len(sc), bins),
    }


def build_profile(
    frame: object,
    feature_types: dict[str, str],
    predictions: np.ndarray | None = None,
    task: str | None = None,
    bins: int = 20,
    max_categories: int = 50,
    scores: np.ndarray | None = None,
) -> dict[str, Any]:
    """A JSON-ready profile of `frame`'s declared features (other columns are ignored);
    `frame` must be a Polars frame (anything else is refused).

    Returns `{"rows", "features": {name: {...}}, "predictions": {...} | None}`. Every feature
    has type, count (non-missing), missing and distinct; numeric ones add mean, std (ddof=1),
    min, max, quantiles (keys "0.01" … "0.99") and histogram {edges, counts}; categorical and
    binary ones add frequencies {category: share} for the top `max_categories` plus
    "__other__"; datetime ones add min and max as text.

    `predictions` need `task`. Regression: a numeric profile (type "numeric"). Classification:
    `{"type": "classification", "classes": <categorical profile of predicted labels> | None,
    "score": <numeric profile of the positive-class score> | None}`; the score comes from
    `scores`, or from `predictions` itself when that is a binary `predict_proba` matrix or a
    1-D float array with fractional values (labels are strings, ints, bools or whole floats).
    Predictions may come from other rows than `frame` (the holdout, say).
    """
    if not isinstance(frame, pl.DataFrame):
        raise InvalidInput(f"profile needs a polars DataFrame, got {type(frame).__name__}")
    if bins < 1 or max_categories < 1:
        raise InvalidInput(f"bins and max_categories must be >= 1, got {bins}, {max_categories}")
    missing = [name for name in feature_types if name not in frame.columns]
    if missing:
        raise InvalidInput(f"frame has no column for features: {', '.join(missing)}")
    valid = {t.value for t in FeatureType}
    for name, kind in feature_types.items():
        if str(kind) not in valid:
            raise InvalidInput(f"feature {name!r} has unknown type {kind!r}")
    features = {
        name: _feature(frame[name], str(kind), bins, max_categories)
        for name, kind in feature_types.items()
    }
    preds = (
        None
        if predictions is None and scores is None
        else _predictions(predictions, task, scores, bins, max_categories)
    )
    return {"rows": frame.height, "features": features, "predictions": preds}


def reference_sample(
    frame: pl.DataFrame, numeric_features: list[str], max_values: int = 5000, seed: int = 0
) -> dict[str, list[float]]:
    """Per numeric feature, at most `max_values` finite values, sorted ascending.

    The subsample is drawn without replacement from the sorted values, seeded by `seed` and
    the feature's name: the same data gives the same sample whatever its row order and
    whichever other features are requested.
    """
    if max_values < 1:
        raise InvalidInput(f"max_values must be >= 1, got {max_values}")
    absent = [name for name in numeric_features if name not in frame.columns]
    if absent:
        raise InvalidInput(f"frame has no column for features: {', '.join(absent)}")
    out: dict[str, list[float]] = {}
    for name in numeric_features:
        values = _finite_sorted(frame[name], name)
        if len(values) > max_values:
            rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
            picked = np.sort(rng.choice(len(values), size=max_values, replace=False))
            values = values[picked]
        out[name] = values.tolist()
    return out
