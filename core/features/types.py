"""The feature store's domain objects: plain dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.domain import Feature

WIRE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.6f"
"""Times of feature rows sent over HTTP: ISO 8601, UTC, always with microseconds."""


@dataclass
class Entity:
    """What features describe (a customer, a merchant), and its key column."""

    name: str
    join_key: str
    value_type: str
    """`string` or `int`: the type of the key column."""
    description: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class ViewVersion:
    version: int
    applied_at: datetime
    applied_by: str
    changes: list[str] = field(default_factory=list)


@dataclass
class FeatureView:
    """A named group of features of one entity, with their history of values over time."""

    name: str
    version: int
    entity: str
    join_key: str
    value_type: str
    source: str
    """`store` (rows appended by `ingest`) or the path of a CSV/Parquet file read in place."""
    timestamp: str
    """The event-time column of the source: when each value became true."""
    created_timestamp: str | None
    """Optional: when each row was written; among rows of equal event time, the newest wins."""
    ttl_s: float | None
    """A value older than this (relative to the time asked about) is not served: null."""
    features: list[Feature]
    description: str = ""
    applied_at: datetime | None = None
    applied_by: str = ""
    offline_rows: int | None = None
    """Rows in the store (None for a file source)."""
    last_ingest_at: datetime | None = None
    materialized_up_to: datetime | None = None
    materialized_at: datetime | None = None
    online_entities: int = 0
    history: list[ViewVersion] = field(default_factory=list)
    """Every applied version, oldest first (filled by `show`)."""


@dataclass
class FeatureCatalog:
    entities: list[Entity]
    views: list[FeatureView]


@dataclass
class AppliedChange:
    kind: str
    """`entity` or `view`."""
    name: str
    action: str
    """`created`, `updated` or `unchanged`."""
    version: int | None = None
    changes: list[str] = field(default_factory=list)


@dataclass
class ApplyResult:
    source: str
    dry_run: bool
    applied: list[AppliedChange]


@dataclass
class IngestResult:
    view: str
    version: int
    rows: int
    file: str
    offline_rows: int
    ingested_at: datetime


@dataclass
class MaterializeResult:
    view: str
    version: int
    up_to: datetime
    entities: int
    """Entities with a value in the online store now."""
    materialized_at: datetime


@dataclass
class OnlineFeatures:
    """One row per requested entity: its keys, then each feature (null when there is no
    value as of the last materialization)."""

    features: list[str]
    rows: list[dict[str, Any]]
