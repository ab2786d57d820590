"""The two control-API operations whose transport is not "engine arguments in, engine result
out as JSON", so their handlers are written by hand (`app/api/operations.py` still declares
their path, role, body and documentation; `custom=True` there points here):

- `register_version`: an artifact upload. The skops file travels as base64 text, decoded
  here; an artifact the engine refuses (an untrusted type, say) is the client's fault (422),
  not the server's.
- `get_historical_features`: a table both ways. Entity rows become a Polars frame for the
  engine, and the answer frame travels as `{"columns": {name: type}, "rows": [...]}` with
  times as text in one format, which `RemoteEngine` turns back into the same frame.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import polars as pl
from fastapi.responses import Response

from app.api.auth import Operator, Viewer
from app.api.errors import with_status
from app.api.render import ok
from app.api.schemas import Historical, RegisterVersion
from core.errors import IntegrityError, InvalidInput
from core.features.types import WIRE_TIME_FORMAT

MAX_ENTITY_ROWS = 100_000


def register_version(name: str, body: RegisterVersion, engine: Operator) -> Response:
    try:
        artifact = base64.b64decode(body.artifact_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("artifact_base64 is not valid base64") from None
    try:
        version = engine.register_version(
            name, artifact, algorithm=body.algorithm, parameters=body.parameters,
            metrics=body.metrics, description=body.description,
            parent_version=body.parent_version, training_data_hash=body.training_data_hash,
            tags=body.tags,
        )  # fmt: skip
    except IntegrityError as e:
        # The uploaded file is at fault (an untrusted type, say), not the server.
        raise with_status(e, 422) from None
    return ok(version, 201)


def get_historical_features(body: Historical, engine: Viewer) -> Response:
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


HANDLERS = {
    "register_version": register_version,
    "get_historical_features": get_historical_features,
}
