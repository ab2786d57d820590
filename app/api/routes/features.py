"""`/api/v1/features`: the feature store — definitions, ingest, materialize, and lookups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.api.auth import Operator, Viewer
from app.api.render import doc, ok
from core.errors import InvalidInput
from core.features import (
    ApplyResult,
    FeatureCatalog,
    FeatureView,
    IngestResult,
    MaterializeResult,
    OnlineFeatures,
)
from core.features.types import WIRE_TIME_FORMAT

router = APIRouter(prefix="/api/v1/features", tags=["feature store"])

MAX_ENTITY_ROWS = 100_000


class Apply(BaseModel):
    config: str = Field(description="Path of a feature definitions file (TOML) on the server.")
    dry_run: bool = False


class Ingest(BaseModel):
    data: str = Field(description="Path of a CSV/Parquet file on the server.")


class Materialize(BaseModel):
    up_to: datetime | None = Field(default=None, description="Default: now.")


class Online(BaseModel):
    features: list[str] = Field(description='["view:feature", "view:*"]')
    entities: list[dict[str, Any]] = Field(description='[{"customer_id": "c-42"}]')


class Historical(BaseModel):
    features: list[str] = Field(description='["view:feature", "view:*"]')
    timestamp: str = Field(description="The entity rows' time column.")
    entities: list[dict[str, Any]] = Field(description="Entity rows: keys, time, anything else.")


@router.post("/apply", response_model=None, responses=doc(ApplyResult))
def apply(body: Apply, engine: Operator) -> Response:
    """Create or update entities and views from a definitions file; all or nothing."""
    return ok(engine.apply_features(body.config, dry_run=body.dry_run))


@router.get("", response_model=None, responses=doc(FeatureCatalog))
def catalog(engine: Viewer) -> Response:
    return ok(engine.feature_catalog())


@router.get("/views/{name}", response_model=None, responses=doc(FeatureView))
def view(name: str, engine: Viewer, version: int | None = None) -> Response:
    return ok(engine.get_feature_view(name, version=version))


@router.post("/views/{name}/ingest", response_model=None, responses=doc(IngestResult))
def ingest(name: str, body: Ingest, engine: Operator) -> Response:
    """Append a file's rows to a store view: every row checked first, all or none stored."""
    return ok(engine.ingest_features(name, body.data))


@router.post("/views/{name}/materialize", response_model=None, responses=doc(MaterializeResult))
def materialize(name: str, body: Materialize, engine: Operator) -> Response:
    return ok(engine.materialize_features(name, up_to=body.up_to))


@router.post("/online", response_model=None, responses=doc(OnlineFeatures))
def online(body: Online, engine: Viewer) -> Response:
    """The materialized values of these entities."""
    return ok(engine.get_online_features(body.features, body.entities))


@router.post("/historical", response_model=None)
def historical(body: Historical, engine: Viewer) -> Response:
    """Point-in-time-correct features for each entity row: `{"columns": {name: type},
    "rows": [...]}`, rows in the order sent; types are int, float, string, bool, datetime."""
    if not body.entities:
        raise InvalidInput("no entity rows")
    if len(body.entities) > MAX_ENTITY_ROWS:
        raise InvalidInput(f"at most {MAX_ENTITY_ROWS:,} entity rows per request")
    try:
        frame = pl.from_dicts(body.entities, infer_schema_length=None)
    except (pl.exceptions.PolarsError, TypeError, ValueError) as e:
        raise InvalidInput(f"entity rows do not form a table: {e}") from None
    found = engine.get_historical_features(frame, body.features, timestamp=body.timestamp)
    kinds = {c: _kind(t) for c, t in found.schema.items()}
    text = [
        pl.col(c).dt.to_string(WIRE_TIME_FORMAT) if k == "datetime" else pl.col(c).cast(pl.String)
        for c, k in kinds.items()
        if k in ("datetime", "string") and found.schema[c] != pl.String
    ]
    return ok({"columns": kinds, "rows": found.with_columns(text).to_dicts()})


def _kind(dtype: Any) -> str:
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    return "bool" if dtype == pl.Boolean else "string"
