"""Drift of the model's output: the score or predicted value against the profile's
histogram, or the predicted classes against their training shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from core.errors import InvalidInput
from core.stats.drift.current import reference_shares, string_counts
from core.stats.drift.features import categorical_drift, numeric_drift, pseudo_sample
from core.stats.drift.results import PREDICTION, SCORE, FeatureDrift


def prediction_drift(
    pp: Mapping[str, Any] | None, current_predictions: Mapping[str, Any] | None
) -> FeatureDrift | None:
    """The output's drift against the profile's `predictions` entry; None without either."""
    if not pp or not current_predictions:
        return None
    labels = current_predictions.get("prediction", current_predictions.get("predictions"))
    scores = current_predictions.get("score", current_predictions.get("scores"))
    if pp.get("type") == "numeric":  # regression: the predicted value
        return _numeric_prediction(PREDICTION, pp, labels)
    if pp.get("type") != "classification":
        raise InvalidInput(f"unknown prediction profile type {pp.get('type')!r}")
    if pp.get("score") and scores is not None:
        sc = np.asarray(scores, dtype=float)
        if sc.ndim == 2 and sc.shape[1] == 2:
            sc = sc[:, 1]
        return _numeric_prediction(SCORE, pp["score"], sc)
    classes = pp.get("classes")
    if classes and labels is not None:
        arr = np.asarray(labels)
        if arr.ndim != 1:
            raise InvalidInput(f"predicted labels must be one-dimensional, got {arr.shape}")
        counts, missing = string_counts(pl.Series("p", arr), "categorical")
        return categorical_drift(
            PREDICTION,
            "categorical",
            reference_shares(classes, "categorical"),
            int(classes["count"]),
            counts,
            missing,
        )
    return None


def _numeric_prediction(name: str, fp: Mapping[str, Any], values: Any) -> FeatureDrift | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise InvalidInput(f"{name} values must be one-dimensional, got shape {arr.shape}")
    finite = np.sort(arr[np.isfinite(arr)])
    ref = pseudo_sample(fp)
    if len(finite) == 0 or len(ref) == 0:
        return None
    return numeric_drift(name, fp, ref, finite, len(arr) - len(finite))
