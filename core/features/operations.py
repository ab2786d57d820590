"""The feature store's operations of the engine (`core.engine.Engine`). Each is declared here once,
with its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from core.features.service import FeatureStore
from core.features.types import (
    ApplyResult,
    IngestResult,
    MaterializeResult,
    OnlineFeatures,
)
from core.forward import forward, in_process


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    actor: str
    features: FeatureStore


class Features(Protocol):
    """Feature definitions, ingest, materialization, and point-in-time and online reads."""

    def apply_features(self, config: str | Path, *, dry_run: bool = False) -> ApplyResult:
        """Create or update the entities and feature views of a definitions file (TOML, read
        by the owner); a change that is not compatible refuses the whole file."""
        parts = in_process(self, _Parts)
        return parts.features.apply(config, actor=parts.actor, dry_run=dry_run)

    feature_catalog = forward("features", FeatureStore.catalog)

    get_feature_view = forward("features", FeatureStore.view)

    def ingest_features(self, view: str, data: str | Path) -> IngestResult:
        """Append a CSV/Parquet file (read by the owner) to a store view: all rows or none."""
        parts = in_process(self, _Parts)
        return parts.features.ingest(view, data, actor=parts.actor)

    def materialize_features(
        self, view: str, *, up_to: datetime | None = None
    ) -> MaterializeResult:
        """Keep the latest value per entity as of `up_to` (default: now) for serving."""
        parts = in_process(self, _Parts)
        return parts.features.materialize(view, up_to=up_to, actor=parts.actor)

    def get_historical_features(
        self, entities: pl.DataFrame, features: list[str], *, timestamp: str
    ) -> pl.DataFrame:
        """Each entity row with `features` (`view:feature`, `view:*`) as they were at its
        `timestamp`: point-in-time correct, TTL honoured."""
        parts = in_process(self, _Parts)
        return parts.features.historical(entities, features, timestamp=timestamp)

    def get_online_features(
        self, features: list[str], entities: list[dict[str, Any]]
    ) -> OnlineFeatures:
        """The materialized values of `features` for these entities (`{join_key: value}`)."""
        parts = in_process(self, _Parts)
        return parts.features.online(features, entities)
