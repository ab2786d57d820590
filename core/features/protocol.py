"""The feature store's operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from core.features.types import (
    ApplyResult,
    FeatureCatalog,
    FeatureView,
    IngestResult,
    MaterializeResult,
    OnlineFeatures,
)

if TYPE_CHECKING:
    import polars as pl


class Features(Protocol):
    """Feature definitions, ingest, materialization, and point-in-time and online reads."""

    def apply_features(self, config: str | Path, *, dry_run: bool = False) -> ApplyResult:
        """Create or update the entities and feature views of a definitions file (TOML, read
        by the owner); a change that is not compatible refuses the whole file."""
        ...

    def feature_catalog(self) -> FeatureCatalog:
        """Every entity and feature view, with its state."""
        ...

    def get_feature_view(self, name: str, *, version: int | None = None) -> FeatureView:
        """A view (as now, or as `version` defined it) with its version history."""
        ...

    def ingest_features(self, view: str, data: str | Path) -> IngestResult:
        """Append a CSV/Parquet file (read by the owner) to a store view: all rows or none."""
        ...

    def materialize_features(
        self, view: str, *, up_to: datetime | None = None
    ) -> MaterializeResult:
        """Keep the latest value per entity as of `up_to` (default: now) for serving."""
        ...

    def get_historical_features(
        self, entities: pl.DataFrame, features: list[str], *, timestamp: str
    ) -> pl.DataFrame:
        """Each entity row with `features` (`view:feature`, `view:*`) as they were at its
        `timestamp`: point-in-time correct, TTL honoured."""
        ...

    def get_online_features(
        self, features: list[str], entities: list[dict[str, Any]]
    ) -> OnlineFeatures:
        """The materialized values of `features` for these entities (`{join_key: value}`)."""
        ...
