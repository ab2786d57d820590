"""Turning JSON prediction requests, log-only events and actuals into checked frames.

Everything a client sends is checked against the model's feature schema before anything is
stored: a bad item is refused with its index and the problem, and nothing of its batch is
written. NaN and infinity are refused (JSON has no such numbers; a client that produces them
has a bug), while `null` is a missing value, which every catalogue pipeline imputes.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import polars as pl

from core.domain import FeatureType, Task
from core.errors import InvalidInput
from core.names import version_number

MAX_ID = 200


def _where(index: int | None) -> str:
    return f"item {index}: " if index is not None else ""


def request_id(raw: Any, index: int | None, *, required: bool) -> str:
    if raw is None:
        if required:
            raise InvalidInput(f"{_where(index)}request_id is required")
        return uuid.uuid4().hex
    if (
        not isinstance(raw, str | int)
        or isinstance(raw, bool)
        or not str(raw)
        or len(str(raw)) > MAX_ID
    ):
        raise InvalidInput(
            f"{_where(index)}request_id must be a non-empty string of at most {MAX_ID} characters"
        )
    return str(raw)


def check_features(
    features: Any, schema: Mapping[str, FeatureType | str], index: int | None = None
) -> dict[str, Any]:
    """One request's features, checked against the schema; returns them in schema order."""
    if not isinstance(features, Mapping):
        raise InvalidInput(f"{_where(index)}features must be a JSON object")
    unknown = [k for k in features if k not in schema]
    if unknown:
        raise InvalidInput(
            f"{_where(index)}unknown feature {unknown[0]!r}; expected {', '.join(schema)}"
        )
    out: dict[str, Any] = {}
    for name, kind in schema.items():
        value = features.get(name)
        kind = FeatureType(kind)
        if value is None:
            out[name] = None
        elif kind is FeatureType.CATEGORICAL:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise InvalidInput(f"{_where(index)}feature {name!r} must be a string")
            out[name] = str(value)
        elif kind is FeatureType.BINARY:
            if isinstance(value, bool) or value in (0, 1):
                out[name] = float(value)
            else:
                raise InvalidInput(f"{_where(index)}feature {name!r} must be true or false")
        else:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(
                    f"{_where(index)}feature {name!r} must be a number, got {value!r}"
                )
            if not math.isfinite(value):
                raise InvalidInput(
                    f"{_where(index)}feature {name!r} is {value}: NaN and infinity are refused"
                )
            out[name] = float(value)
    return out


def _timestamp(raw: Any, index: int | None, now: datetime) -> datetime:
    if raw is None:
        return now
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        return datetime.fromtimestamp(raw, UTC).replace(tzinfo=None)
    if isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts
    raise InvalidInput(f"{_where(index)}ts must be an ISO-8601 time or epoch seconds")


def _version(raw: Any, index: int) -> int | None:
    if raw is None:
        return None
    number = version_number(str(raw))
    if number is None:
        raise InvalidInput(f"{_where(index)}version must look like v3")
    return number


def _outcome(raw: Any, task: Task, index: int, what: str) -> tuple[str | None, float | None]:
    """(label, value) for a prediction or an actual."""
    if raw is None:
        return None, None
    if task is Task.REGRESSION:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise InvalidInput(
                f"{_where(index)}{what} must be a finite number for a regression model"
            )
        return None, float(raw)
    if isinstance(raw, bool):
        return str(int(raw)), None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if not isinstance(raw, str | int):
        raise InvalidInput(f"{_where(index)}{what} must be a class label")
    return str(raw), None


def _finite(
    raw: Any, index: int, name: str, *, low: float = -math.inf, high: float = math.inf
) -> float | None:
    if raw is None:
        return None
    if (
        isinstance(raw, bool)
        or not isinstance(raw, int | float)
        or not math.isfinite(raw)
        or not low <= raw <= high
    ):
        raise InvalidInput(f"{_where(index)}{name} must be a finite number in [{low}, {high}]")
    return float(raw)


def events_frame(
    model: str,
    task: Task,
    schema: Mapping[str, FeatureType | str],
    items: Sequence[Any],
    *,
    source: str = "external",
    now: datetime | None = None,
) -> pl.DataFrame:
    """Log-only events from an external server → the `prediction_events` frame."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    rows: dict[str, list[Any]] = {k: [] for k in _EVENT_KEYS}
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidInput(f"item {i}: an event must be a JSON object")
        label, value = _outcome(item.get("prediction"), task, i, "prediction")
        feats = item.get("features")
        checked = check_features(feats, schema, i) if schema and feats is not None else feats
        if checked is not None and not isinstance(checked, Mapping):
            raise InvalidInput(f"item {i}: features must be a JSON object")
        error = item.get("error")
        if error is not None and not isinstance(error, str):
            raise InvalidInput(f"item {i}: error must be a string")
        rows["model_id"].append(model)
        rows["request_id"].append(request_id(item.get("request_id"), i, required=True))
        rows["ts"].append(_timestamp(item.get("ts"), i, now))
        rows["version"].append(_version(item.get("version"), i))
        rows["environment"].append(item.get("environment") or "production")
        rows["unit_id"].append(None if item.get("unit_id") is None else str(item["unit_id"]))
        rows["arm"].append(None if item.get("arm") is None else str(item["arm"]))
        # Stored as sent (validated): drift analysis reads them back with the schema's types.
        rows["features"].append(None if feats is None else orjson.dumps(feats).decode())
        rows["label"].append(label)
        rows["value"].append(value)
        rows["score"].append(_finite(item.get("score"), i, "score", low=0.0, high=1.0))
        rows["latency_ms"].append(_finite(item.get("latency_ms"), i, "latency_ms", low=0.0))
        rows["error"].append(error)
        rows["source"].append(source)
    return pl.DataFrame(rows, schema=EVENT_SCHEMA)


def actuals_frame(
    model: str, task: Task, items: Sequence[Any], *, now: datetime | None = None
) -> pl.DataFrame:
    now = now or datetime.now(UTC).replace(tzinfo=None)
    rows: dict[str, list[Any]] = {
        "model_id": [],
        "request_id": [],
        "ts": [],
        "label": [],
        "value": [],
    }
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidInput(f"item {i}: an actual must be a JSON object")
        if "actual" not in item or item["actual"] is None:
            raise InvalidInput(f"item {i}: actual is required")
        label, value = _outcome(item["actual"], task, i, "actual")
        rows["model_id"].append(model)
        rows["request_id"].append(request_id(item.get("request_id"), i, required=True))
        rows["ts"].append(_timestamp(item.get("ts"), i, now))
        rows["label"].append(label)
        rows["value"].append(value)
    return pl.DataFrame(
        rows,
        schema={
            "model_id": pl.String,
            "request_id": pl.String,
            "ts": pl.Datetime("us"),
            "label": pl.String,
            "value": pl.Float64,
        },
    )


EVENT_SCHEMA: dict[str, Any] = {
    "model_id": pl.String,
    "request_id": pl.String,
    "ts": pl.Datetime("us"),
    "version": pl.Int32,
    "environment": pl.String,
    "unit_id": pl.String,
    "arm": pl.String,
    "features": pl.String,
    "label": pl.String,
    "value": pl.Float64,
    "score": pl.Float64,
    "latency_ms": pl.Float64,
    "error": pl.String,
    "source": pl.String,
}
_EVENT_KEYS = tuple(EVENT_SCHEMA)


def now_naive() -> datetime:
    """UTC now as stored (naive)."""
    return datetime.now(UTC).replace(tzinfo=None)


_EVENT_FIELDS = frozenset(
    {"request_id", "ts", "version", "environment", "unit_id", "arm", "features", "prediction",
     "score", "latency_ms", "error"}
)  # fmt: skip


def events_frame_fast(
    model: str,
    task: Task,
    schema: Mapping[str, FeatureType | str],
    items: Sequence[Any],
    *,
    source: str = "external",
    now: datetime | None = None,
) -> pl.DataFrame:
    """`events_frame` for big batches, checked column by column instead of item by item.

    Anything irregular falls back to the per-item path, which either accepts it or names the
    first bad item, so both paths accept and refuse exactly the same batches.
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    try:
        frame = _fast(model, task, schema, items, source, now)
    except (pl.exceptions.PolarsError, TypeError, ValueError, _Irregular):
        frame = None
    return (
        frame
        if frame is not None
        else events_frame(model, task, schema, items, source=source, now=now)
    )


class _Irregular(Exception):
    pass


def _need(ok: bool) -> None:
    if not ok:
        raise _Irregular


def _fast(
    model: str, task: Task, schema: Mapping[str, FeatureType | str], items: Sequence[Any],
    source: str, now: datetime,
) -> pl.DataFrame:  # fmt: skip
    if not items or not all(isinstance(i, dict) for i in items[:1]):
        raise _Irregular
    df = pl.from_dicts(items, infer_schema_length=None)
    _need(set(df.columns) <= _EVENT_FIELDS and "request_id" in df.columns)
    n = df.height
    rid = df["request_id"]
    _need(rid.dtype == pl.String and rid.null_count() == 0)
    _need(bool((rid.str.len_chars().is_between(1, MAX_ID)).all()))
    out: dict[str, pl.Series] = {
        "model_id": pl.repeat(model, n, eager=True, dtype=pl.String),
        "request_id": rid,
    }
    if "ts" in df.columns and df["ts"].null_count() < n:
        ts = df["ts"]
        _need(ts.dtype == pl.String and ts.null_count() == 0)
        parsed = ts.str.to_datetime(
            time_unit="us", time_zone="UTC", strict=True
        ).dt.replace_time_zone(None)
        out["ts"] = parsed
    else:
        out["ts"] = pl.repeat(now, n, eager=True, dtype=pl.Datetime("us"))
    if "version" in df.columns and df["version"].null_count() < n:
        v = df["version"]
        _need(
            v.dtype == pl.String
            and v.null_count() == 0
            and bool(v.str.contains(r"^v?[1-9][0-9]{0,8}$").all())
        )
        out["version"] = v.str.strip_prefix("v").cast(pl.Int32)
    for name in ("unit_id", "arm", "error"):
        col = df[name] if name in df.columns else None
        _need(col is None or col.dtype in (pl.String, pl.Null))
        out[name] = (
            col.cast(pl.String)
            if col is not None
            else pl.repeat(None, n, eager=True, dtype=pl.String)
        )
    env = df["environment"] if "environment" in df.columns else None
    _need(env is None or (env.dtype == pl.String and env.null_count() == 0))
    out["environment"] = (
        env if env is not None else pl.repeat("production", n, eager=True, dtype=pl.String)
    )
    pred = (
        df["prediction"]
        if "prediction" in df.columns
        else pl.repeat(None, n, eager=True, dtype=pl.Null)
    )
    if task is Task.REGRESSION:
        _need(pred.dtype.is_numeric() or pred.dtype == pl.Null)
        value = pred.cast(pl.Float64)
        _need(bool(value.drop_nulls().is_finite().all()))
        out["label"], out["value"] = pl.repeat(None, n, eager=True, dtype=pl.String), value
    else:
        _need(pred.dtype == pl.String or pred.dtype.is_integer() or pred.dtype == pl.Null)
        out["label"], out["value"] = (
            pred.cast(pl.String),
            pl.repeat(None, n, eager=True, dtype=pl.Float64),
        )
    for name, low, high in (("score", 0.0, 1.0), ("latency_ms", 0.0, math.inf)):
        col = df[name] if name in df.columns else pl.repeat(None, n, eager=True, dtype=pl.Float64)
        _need(col.dtype.is_numeric() or col.dtype == pl.Null)
        col = col.cast(pl.Float64)
        vals = col.drop_nulls()
        _need(bool((vals.is_finite() & (vals >= low) & (vals <= high)).all()))
        out[name] = col
    out["features"] = _features_json(df, schema, n)
    out["source"] = pl.repeat(source, n, eager=True, dtype=pl.String)
    return pl.DataFrame(out).select(list(EVENT_SCHEMA)).cast(EVENT_SCHEMA)


def _features_json(df: pl.DataFrame, schema: Mapping[str, FeatureType | str], n: int) -> pl.Series:
    if "features" not in df.columns:
        return pl.repeat(None, n, eager=True, dtype=pl.String)
    feats = df["features"]
    _need(isinstance(feats.dtype, pl.Struct) and feats.null_count() == 0)
    fields = feats.struct.unnest()
    if schema:
        _need(set(fields.columns) <= set(schema))
        for name in fields.columns:
            col, kind = fields[name], FeatureType(schema[name])
            if kind is FeatureType.NUMERIC:
                _need(col.dtype.is_numeric() or col.dtype == pl.Null)
                _need(bool(col.cast(pl.Float64).drop_nulls().is_finite().all()))
            elif kind is FeatureType.CATEGORICAL:
                _need(col.dtype == pl.String or col.dtype.is_integer() or col.dtype == pl.Null)
            else:
                _need(
                    col.dtype in (pl.Boolean, pl.Null)
                    or (col.dtype.is_integer() and bool(col.drop_nulls().is_in([0, 1]).all()))
                )
    return feats.struct.json_encode()
