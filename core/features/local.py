"""`LocalEngine`'s feature store operations (`core.features.protocol.Features`), in this process."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from core.features.service import FeatureStore
from core.features.types import ApplyResult, IngestResult, MaterializeResult, OnlineFeatures
from core.forward import forward


class LocalFeatures:
    """Feature store operations over `FeatureStore`, audited under the engine's actor."""

    actor: str
    features: FeatureStore

    feature_catalog = forward("features", FeatureStore.catalog)
    get_feature_view = forward("features", FeatureStore.view)
    get_historical_features = forward("features", FeatureStore.historical)

    def apply_features(self, config: str | Path, *, dry_run: bool = False) -> ApplyResult:
        return self.features.apply(config, actor=self.actor, dry_run=dry_run)

    def ingest_features(self, view: str, data: str | Path) -> IngestResult:
        return self.features.ingest(view, data, actor=self.actor)

    def materialize_features(
        self, view: str, *, up_to: datetime | None = None
    ) -> MaterializeResult:
        return self.features.materialize(view, up_to=up_to, actor=self.actor)

    def get_online_features(
        self, features: list[str], entities: list[dict[str, Any]]
    ) -> OnlineFeatures:
        return self.features.online(features, entities)
