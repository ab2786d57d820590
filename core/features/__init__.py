"""The feature store: entities, versioned feature views, point-in-time-correct training sets
(DuckDB ASOF JOIN) and an online lookup for serving — in the same store, no extra service."""

from core.features.service import FeatureStore
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
    "FeatureStore",
    "FeatureView",
    "IngestResult",
    "MaterializeResult",
    "OnlineFeatures",
    "ViewVersion",
]
