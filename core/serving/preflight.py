"""Pre-flight: no revision sends traffic to a version that has not just been loaded from its
artifact and answered a smoke prediction.

The smoke rows come from the version's reference profile (what it was trained on: low,
middle and high quantiles of each numeric feature, its most frequent categories), so a
version that loads but cannot predict on ordinary input is caught too. A version registered
from a file has no profile: its smoke rows are its recent live requests, else one row of
missing values, which every catalogue pipeline imputes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from core.domain import FeatureType
from core.stats.distribution import OTHER  # the profile's folded tail of categories
from storage.repos import events as events_repo
from storage.repos import training as training_repo
from storage.store import Store

SMOKE_QUANTILES = ("0.1", "0.5", "0.9")
"""One smoke row per quantile: the typical and both ends of the training range."""


def profile_rows(
    schema: Mapping[str, FeatureType], profile: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Smoke rows drawn from a reference profile, as request features (JSON-like values);
    empty when the profile describes none of the features."""
    features: Mapping[str, Any] = (profile.get("features") if profile else None) or {}
    if not any(name in features for name in schema):
        return []
    rows: list[dict[str, Any]] = [{} for _ in SMOKE_QUANTILES]
    for name, kind in schema.items():
        fp: Mapping[str, Any] = features.get(name) or {}
        for i, row in enumerate(rows):
            row[name] = _value(kind, fp, i)
    return rows


def _value(kind: FeatureType, fp: Mapping[str, Any], i: int) -> Any:
    if kind is FeatureType.NUMERIC:
        quantiles: Mapping[str, Any] = fp.get("quantiles") or {}
        return quantiles.get(SMOKE_QUANTILES[i])
    if kind in (FeatureType.CATEGORICAL, FeatureType.BINARY):
        frequencies: Mapping[str, Any] = fp.get("frequencies") or {}
        seen = [c for c in frequencies if c != OTHER]
        if not seen:
            return None
        category = seen[i % len(seen)]
        if kind is FeatureType.BINARY:  # profiled as strings: "true"/"false", "1"/"0"
            return category.lower() in ("true", "1", "1.0")
        return category
    return None


def missing_row(schema: Mapping[str, FeatureType]) -> list[dict[str, Any]]:
    """One row of missing values: the smoke row of last resort."""
    return [dict.fromkeys(schema)]


def check_answers(rows: int, labels: list[Any], probabilities: Any, *, regression: bool) -> None:
    """Refuse answers no caller could use: a wrong count, a non-finite regression value,
    probabilities that are not a distribution."""
    if len(labels) != rows:
        raise ValueError(f"answered {len(labels)} predictions for {rows} rows")
    if regression and not all(
        isinstance(v, int | float) and math.isfinite(float(v)) for v in labels
    ):
        raise ValueError(f"answered a non-finite prediction: {labels}")
    if probabilities is not None:
        probabilities = np.asarray(probabilities, dtype=float)
        if not np.all(np.isfinite(probabilities)):
            raise ValueError("answered non-finite class probabilities")
        sums = probabilities.sum(axis=1)
        if not np.allclose(sums, 1.0, atol=1e-6):
            raise ValueError(f"class probabilities sum to {sums.tolist()}, not 1")


def smoke_rows(
    store: Store, model: str, version: str, schema: Mapping[str, FeatureType]
) -> list[dict[str, Any]]:
    """A version's smoke rows: from its profile, else its model's recent requests, else one
    row of missing values (see the module's docstring)."""
    with store.read() as conn:
        text = training_repo.profile(conn, f"{model}:{version}")
        # Live requests stand in only for a version without a profile.
        recent = events_repo.recent_features(conn, model, limit=3) if text is None else []
    if text is not None and (rows := profile_rows(schema, orjson.loads(text))):
        return rows
    if recent:
        return [{k: v for k, v in orjson.loads(f).items() if k in schema} for f in recent]
    return missing_row(schema)
