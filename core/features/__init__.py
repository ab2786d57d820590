"""The feature store: entities, versioned feature views, point-in-time-correct training sets
(DuckDB ASOF JOIN) and an online lookup for serving — in the same store, no extra service.

The package exports only its result types, so a client decoding them loads no DuckDB or
Polars; the service is `core.features.service.FeatureStore`."""

from core.features.types import (
    AppliedChange,
    ApplyResult,
    Entity,
    FeatureCatalog,
    FeatureView,
    IngestResult,
    MaterializeResult,
    OnlineFeatures,
    ViewVersion,
)

__all__ = [
    "AppliedChange",
    "ApplyResult",
    "Entity",
    "FeatureCatalog",
    "FeatureView",
    "IngestResult",
    "MaterializeResult",
    "OnlineFeatures",
    "ViewVersion",
]
