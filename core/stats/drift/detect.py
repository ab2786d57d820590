"""`detect_drift`: every feature of a window against the stored reference, and the verdict
for the dataset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import polars as pl

from core.errors import InvalidInput
from core.stats.drift.current import check_columns, reference_shares, sorted_numeric, string_counts
from core.stats.drift.features import categorical_drift, numeric_drift, pseudo_sample
from core.stats.drift.prediction import prediction_drift
from core.stats.drift.results import DATASET_SHARE, DriftAnalysis, FeatureDrift


def detect_drift(
    profile: Mapping[str, Any],
    samples: Mapping[str, list[float]],
    current: pl.DataFrame,
    *,
    current_predictions: Mapping[str, Any] | None = None,
    min_current: int = 100,
    share_threshold: float = DATASET_SHARE,
) -> DriftAnalysis:
    """Drift of `current` (a frame holding the profile's feature columns) against the stored
    reference `profile` + `samples` (see `core.stats.drift` for the methods).

    `current_predictions` may hold "prediction" (regression values or predicted class labels)
    and/or "score" (the positive-class score, or a binary predict_proba matrix); prediction
    drift uses the score when both the profile and the caller have one, else the labels. Its
    reference is the profile's histogram (no sample is stored for predictions), so its KS /
    Wasserstein are computed against values spread evenly within the histogram bins.

    Features of type "datetime", and features with no values on either side, are left out.
    """
    # Checked although typed: callers outside the type checker may pass anything.
    if not isinstance(cast(object, current), pl.DataFrame):
        raise InvalidInput(f"current data must be a polars DataFrame, got {type(current)}")
    if not isinstance(cast(object, profile), Mapping) or not isinstance(
        profile.get("features"), Mapping
    ):
        raise InvalidInput("profile must be a mapping with 'rows' and 'features'")
    if min_current < 1 or not 0.0 < share_threshold <= 1.0:
        raise InvalidInput("min_current must be >= 1 and share_threshold in (0, 1]")
    features = {
        name: fp
        for name, fp in profile["features"].items()
        if fp.get("type") in ("numeric", "categorical", "binary")
    }
    check_columns(current, features)
    unknown = set(current_predictions or {}) - {"prediction", "predictions", "score", "scores"}
    if unknown:
        raise InvalidInput(
            f"current_predictions keys must be 'prediction' and/or 'score', got {sorted(unknown)}"
        )
    n = current.height
    if n < min_current:
        return DriftAnalysis(
            features=[],
            drift_share=0.0,
            dataset_drift=False,
            prediction=None,
            status="insufficient_data",
            current_size=n,
            reason=f"only {n} current rows; drift needs at least {min_current}",
        )

    numeric = [name for name, fp in features.items() if fp["type"] == "numeric"]
    sorted_cur = sorted_numeric(current, numeric)
    results: list[FeatureDrift] = []
    skipped: list[str] = []
    for name, fp in features.items():
        kind = fp["type"]
        if int(fp.get("count") or 0) == 0:
            skipped.append(name)
            continue
        if kind == "numeric":
            cur, missing = sorted_cur[name]
            stored = samples.get(name)
            ref = pseudo_sample(fp) if stored is None else np.asarray(stored, dtype=float)
            if len(cur) == 0 or len(ref) == 0:
                skipped.append(name)
                continue
            results.append(numeric_drift(name, fp, ref, cur, missing))
        else:
            counts, missing = string_counts(current[name], kind)
            if not counts:
                skipped.append(name)
                continue
            results.append(
                categorical_drift(
                    name, kind, reference_shares(fp, kind), int(fp["count"]), counts, missing
                )
            )
    prediction = prediction_drift(profile.get("predictions"), current_predictions)
    drifted = [r.feature for r in results if r.drifted]
    share = len(drifted) / len(results) if results else 0.0
    dataset = bool(results) and share >= share_threshold
    reason = (
        f"{len(drifted)} of {len(results)} features drifted ({share:.0%}"
        f"{', dataset drift' if dataset else ''})"
        + (f": {', '.join(drifted)}" if drifted else "")
        + (f"; prediction drift ({prediction.method})" if prediction and prediction.drifted else "")
        + (f"; skipped (no values): {', '.join(skipped)}" if skipped else "")
    )
    return DriftAnalysis(
        features=results,
        drift_share=share,
        dataset_drift=dataset,
        prediction=prediction,
        status="ok",
        current_size=n,
        reason=reason,
    )
