"""Turning JSON prediction requests, log-only events and actuals into checked frames.

Everything a client sends is checked against the model's feature schema before anything is
stored: a bad item is refused with its index and the problem, and nothing of its batch is
written. NaN and infinity are refused (JSON has no such numbers; a client that produces them
has a bug), while `null` is a missing value, which every catalogue pipeline imputes.

Log-only events and actuals must also fit the model (`Fits`): a version it has, a class one
of its versions predicts (an actual "banana" for a 0/1 classifier is refused), a time within
a range of the server's clock (`EventWindow`: by default no more than 10 years back nor 5
minutes ahead, `MLC_EVENT_MAX_AGE` and `MLC_EVENT_MAX_AHEAD`), an environment that exists.
Ids, units and arms are at most `MAX_ID` characters, an event's error `MAX_ERROR`. The HTTP
API, the CLI (`mlc ingest`, `mlc actuals`) and the Python engine all come through here.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import polars as pl

from core.domain import Environment, FeatureType, Task
from core.errors import InvalidInput, PayloadTooLarge
from core.names import version_number
from core.timeparse import duration_text, parse_duration

MAX_ID = 200
"""Characters of a request id, a unit id or an arm."""
MAX_ERROR = 1_000
"""Characters of a log-only event's error."""
MAX_AGE_ENV, MAX_AHEAD_ENV = "MLC_EVENT_MAX_AGE", "MLC_EVENT_MAX_AHEAD"
_ENVIRONMENTS = tuple(e.value for e in Environment)


@dataclass(frozen=True)
class EventWindow:
    """How far from the server's clock an event's or an actual's time may be."""

    max_age: timedelta = timedelta(days=3650)
    max_ahead: timedelta = timedelta(minutes=5)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EventWindow:
        """`MLC_EVENT_MAX_AGE` and `MLC_EVENT_MAX_AHEAD` (durations: `30d`, `5m`), or the
        defaults; a value that is no duration is refused, naming the variable."""
        env = os.environ if env is None else env
        found = cls()
        bounds = {"max_age": found.max_age, "max_ahead": found.max_ahead}
        for key, name in (("max_age", MAX_AGE_ENV), ("max_ahead", MAX_AHEAD_ENV)):
            if text := env.get(name):
                try:
                    bounds[key] = parse_duration(text)
                except InvalidInput as e:
                    raise InvalidInput(f"{name}: {e.message}") from None
        return cls(**bounds)

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        return now - self.max_age, now + self.max_ahead

    def describe(self) -> str:
        age, ahead = (duration_text(d.total_seconds()) for d in (self.max_age, self.max_ahead))
        return (
            f"times may be at most {age} before and {ahead} after the server's clock"
            f" ({MAX_AGE_ENV}, {MAX_AHEAD_ENV})"
        )


@dataclass(frozen=True)
class Fits:
    """What a model's log-only events and actuals must fit besides its feature schema."""

    model: str
    versions: int
    """Its versions are v1…v`versions` (versions are never deleted)."""
    classes: frozenset[str] | None
    """A classifier's class labels as stored (`str(label)`), from all its versions; None
    for a regression model, or a classifier with no version yet (nothing to check against)."""
    window: EventWindow = EventWindow()

    def version(self, number: int, index: int | None) -> int:
        if not 1 <= number <= self.versions:
            have = "no version yet" if not self.versions else f"v1 to v{self.versions}"
            raise InvalidInput(
                f"{_where(index)}version v{number} does not exist: model {self.model!r} has {have}"
            )
        return number

    def label(self, label: str | None, index: int | None, what: str) -> str | None:
        if label is not None and self.classes is not None and label not in self.classes:
            raise InvalidInput(
                f"{_where(index)}{what} {label!r} is not a class of model {self.model!r}:"
                f" expected one of {', '.join(sorted(self.classes))}"
            )
        return label

    def time(self, ts: datetime, index: int | None, now: datetime) -> datetime:
        low, high = self.window.bounds(now)
        if not low <= ts <= high:
            raise InvalidInput(
                f"{_where(index)}ts {ts.isoformat()} is out of range: {self.window.describe()}"
            )
        return ts


def _where(index: int | None) -> str:
    return f"item {index}: " if index is not None else ""


def new_ids(n: int) -> list[str]:
    """`n` fresh request ids of 128 random bits in hex (a uuid4's 122 and more): one read of
    the OS's random source for a whole batch, where `uuid4()` per id cost 2 µs each."""
    hexed = os.urandom(16 * n).hex()
    return [hexed[i : i + 32] for i in range(0, 32 * n, 32)]


def request_id(raw: Any, index: int | None, *, required: bool) -> str:
    if raw is None:
        if required:
            raise InvalidInput(f"{_where(index)}request_id is required")
        return new_ids(1)[0]
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


_CATEGORICAL, _BINARY = FeatureType.CATEGORICAL, FeatureType.BINARY


def check_features(
    features: Any,
    schema: Mapping[str, FeatureType | str],
    index: int | None = None,
    known: Collection[str] | None = None,
) -> dict[str, Any]:
    """One request's features, checked against the schema; returns them in schema order.

    `known` is every feature the model's serving versions read: a request is refused for a
    feature no version knows, while a version that reads fewer simply ignores the others.
    """
    # Per item of a batch (~2 µs each for a dozen features): exact types first (what JSON
    # decodes to), the general checks only for what is left; no enum lookups, as a StrEnum
    # member equals its string value.
    if type(features) is not dict and not isinstance(features, Mapping):
        raise InvalidInput(f"{_where(index)}features must be a JSON object")
    expected = known if known is not None else schema
    for key in features:
        if key not in expected:
            raise InvalidInput(
                f"{_where(index)}unknown feature {key!r}; expected {', '.join(expected)}"
            )
    out: dict[str, Any] = {}
    for name, kind in schema.items():
        value = features.get(name)
        exact = type(value)
        if value is None:
            out[name] = None
        elif kind == _CATEGORICAL:
            if exact is str:
                out[name] = value
            elif exact is bool or not isinstance(value, str | int | float):
                raise InvalidInput(f"{_where(index)}feature {name!r} must be a string")
            else:
                out[name] = str(value)
        elif kind == _BINARY:
            if isinstance(value, bool) or value in (0, 1):
                out[name] = float(value)
            else:
                raise InvalidInput(f"{_where(index)}feature {name!r} must be true or false")
        elif exact is float and math.isfinite(value):
            out[name] = value
        elif exact is int:
            try:
                out[name] = float(value)
            except OverflowError:  # beyond any float: no JSON number, but the Python API
                raise InvalidInput(
                    f"{_where(index)}feature {name!r} is too large for a number"
                ) from None
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


def _timestamp(raw: Any, index: int | None, now: datetime, fits: Fits | None) -> datetime:
    ts = _parse_time(raw, index, now)
    return ts if fits is None else fits.time(ts, index, now)


def _parse_time(raw: Any, index: int | None, now: datetime) -> datetime:
    if raw is None:
        return now
    try:
        if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
            return datetime.fromtimestamp(raw, UTC).replace(tzinfo=None)
        if isinstance(raw, str):
            ts = datetime.fromisoformat(raw)
            return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts
    except (ValueError, OverflowError, OSError):  # not a time, or beyond any datetime
        pass
    raise InvalidInput(f"{_where(index)}ts must be an ISO-8601 time or epoch seconds")


def _version(raw: Any, index: int, fits: Fits | None) -> int | None:
    if raw is None:
        return None
    number = version_number(str(raw))
    if number is None:
        raise InvalidInput(f"{_where(index)}version must look like v3")
    return number if fits is None else fits.version(number, index)


def _text(raw: Any, index: int | None, name: str, limit: int) -> str | None:
    """An optional id-like field: a string (or an integer) of at most `limit` characters."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise InvalidInput(f"{_where(index)}{name} must be a string")
    text = str(raw)
    if len(text) > limit:
        raise InvalidInput(
            f"{_where(index)}{name} is {len(text):,} characters long; at most {limit:,}"
        )
    return text


def _environment(raw: Any, index: int | None) -> str:
    if raw is None or raw == "":
        return Environment.PRODUCTION.value
    if raw not in _ENVIRONMENTS:
        raise InvalidInput(
            f"{_where(index)}unknown environment {raw!r}: use {' or '.join(_ENVIRONMENTS)}"
        )
    return str(raw)


def unit_id(raw: Any, index: int | None) -> str | None:
    """A request's `unit_id`: a string (or an integer) of at most `MAX_ID` characters."""
    if type(raw) is str and len(raw) <= MAX_ID:  # the usual: a type check and a len()
        return raw
    return _text(raw, index, "unit_id", MAX_ID)


def _outcome(
    raw: Any, task: Task, index: int, what: str, fits: Fits | None = None
) -> tuple[str | None, float | None]:
    """(label, value) for a prediction or an actual; a label must be one of the model's
    classes when `fits` knows them."""
    if raw is None:
        return None, None
    if task is Task.REGRESSION:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise InvalidInput(
                f"{_where(index)}{what} must be a finite number for a regression model"
            )
        return None, float(raw)
    label = label_of(raw)
    if label is None:
        raise InvalidInput(f"{_where(index)}{what} must be a class label")
    return (label if fits is None else fits.label(label, index, what)), None


def label_of(raw: Any) -> str | None:
    """A class label as stored: `true` → "1", `1.0` → "1", "yes" → "yes"; None for what
    cannot be one (a list, 1.5)."""
    if isinstance(raw, bool):
        return str(int(raw))
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw) if isinstance(raw, str | int) else None


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
    fits: Fits | None = None,
) -> pl.DataFrame:
    """Log-only events from an external server → the `prediction_events` frame; checked
    against `fits` too when given (what the data plane and the CLI always give)."""
    now = now or now_naive()
    rows: dict[str, list[Any]] = {k: [] for k in _EVENT_KEYS}
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidInput(f"item {i}: an event must be a JSON object")
        label, value = _outcome(item.get("prediction"), task, i, "prediction", fits)
        feats = item.get("features")
        checked = check_features(feats, schema, i) if schema and feats is not None else feats
        if checked is not None and not isinstance(checked, Mapping):
            raise InvalidInput(f"item {i}: features must be a JSON object")
        error = item.get("error")
        if error is not None and not isinstance(error, str):
            raise InvalidInput(f"item {i}: error must be a string")
        error = _text(error, i, "error", MAX_ERROR)
        rows["model_id"].append(model)
        rows["request_id"].append(request_id(item.get("request_id"), i, required=True))
        rows["ts"].append(_timestamp(item.get("ts"), i, now, fits))
        rows["version"].append(_version(item.get("version"), i, fits))
        rows["environment"].append(_environment(item.get("environment"), i))
        rows["unit_id"].append(_text(item.get("unit_id"), i, "unit_id", MAX_ID))
        rows["arm"].append(_text(item.get("arm"), i, "arm", MAX_ID))
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
    model: str,
    task: Task,
    items: Sequence[Any],
    *,
    now: datetime | None = None,
    fits: Fits | None = None,
) -> pl.DataFrame:
    """Late labels → the `actuals` frame; checked against `fits` too when given."""
    now = now or now_naive()
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
        label, value = _outcome(item["actual"], task, i, "actual", fits)
        rows["model_id"].append(model)
        rows["request_id"].append(request_id(item.get("request_id"), i, required=True))
        rows["ts"].append(_timestamp(item.get("ts"), i, now, fits))
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
    items: Sequence[Any] | bytes,
    *,
    source: str = "external",
    now: datetime | None = None,
    max_items: int | None = None,
    fits: Fits | None = None,
) -> pl.DataFrame:
    """`events_frame` for big batches, checked column by column instead of item by item.

    `items` may be the raw JSON body: Polars parses it straight into columns (no Python
    object per event, ~3x faster than orjson plus a frame built from dicts, measured).
    Anything irregular falls back to the per-item path, which either accepts it or names the
    first bad item, so both paths accept and refuse exactly the same batches.
    """
    now = now or now_naive()
    try:
        if isinstance(items, bytes | bytearray):
            # Types come from the first rows; a later row that disagrees makes Polars raise,
            # and the per-item path then decides.
            df = pl.read_json(io.BytesIO(items))
        elif items and isinstance(items[0], dict):
            df = pl.from_dicts(items, infer_schema_length=None)
        else:
            raise _Irregular
        if max_items is not None and df.height > max_items:
            raise PayloadTooLarge(
                f"batch of {df.height:,} events is over the limit of {max_items:,}"
            )
        frame = _fast(model, task, schema, df, source, now, fits)
    except (pl.exceptions.PolarsError, TypeError, ValueError, _Irregular):
        frame = None
    if frame is not None:
        return frame
    if isinstance(items, bytes | bytearray):
        try:
            items = orjson.loads(items)
        except orjson.JSONDecodeError as e:
            raise InvalidInput(f"body is not valid JSON: {e}") from None
        if not isinstance(items, list):
            raise InvalidInput("expected a JSON list of events")
        if max_items is not None and len(items) > max_items:
            raise PayloadTooLarge(
                f"batch of {len(items):,} events is over the limit of {max_items:,}"
            )
    return events_frame(model, task, schema, items, source=source, now=now, fits=fits)


class _Irregular(Exception):
    pass


def _need(ok: bool) -> None:
    if not ok:
        raise _Irregular


_STRINGS = (pl.String, pl.Null)


def _fast(
    model: str, task: Task, schema: Mapping[str, FeatureType | str], df: pl.DataFrame,
    source: str, now: datetime, fits: Fits | None,
) -> pl.DataFrame:  # fmt: skip
    """One pass of checks over the frame, then one pass to build the stored columns; the
    times are checked on the built frame."""
    cols = df.schema
    _need(df.height > 0 and set(cols) <= _EVENT_FIELDS and "request_id" in cols)
    _need(cols["request_id"] == pl.String)
    for name in ("unit_id", "arm", "error", "environment", "version", "ts"):
        _need(name not in cols or cols[name] in _STRINGS)
    pred = cols.get("prediction", pl.Null)
    if task is Task.REGRESSION:
        _need(pred.is_numeric() or pred == pl.Null)
    else:
        _need(pred in _STRINGS or pred.is_integer())
    for name in ("score", "latency_ms"):
        _need(name not in cols or cols[name].is_numeric() or cols[name] == pl.Null)

    checks = [
        pl.col("request_id").is_not_null().all()
        & pl.col("request_id").str.len_chars().is_between(1, MAX_ID).all()
    ]
    if "environment" in cols and cols["environment"] != pl.Null:
        checks.append(pl.col("environment").is_in(_ENVIRONMENTS).all())
    for name, limit in (("unit_id", MAX_ID), ("arm", MAX_ID), ("error", MAX_ERROR)):
        if name in cols and cols[name] != pl.Null:
            checks.append(pl.col(name).str.len_chars().max().fill_null(0) <= limit)
    if "version" in cols and cols["version"] != pl.Null:
        checks.append(
            pl.col("version").is_null().all()
            | pl.col("version").str.contains(r"^v?[1-9][0-9]{0,8}$").all()
        )
        checks.append(pl.col("version").is_null().all() | pl.col("version").is_not_null().all())
        if fits is not None:
            number = pl.col("version").str.strip_prefix("v").cast(pl.Int64, strict=False)
            checks.append(number.max().fill_null(0) <= fits.versions)
    if fits is not None and fits.classes is not None and pred != pl.Null:
        labels = sorted(fits.classes)
        checks.append(
            pl.col("prediction")
            .cast(pl.String)
            .is_in(labels)
            .or_(pl.col("prediction").is_null())
            .all()
        )
    if task is Task.REGRESSION and pred != pl.Null:
        checks.append(
            pl.col("prediction")
            .cast(pl.Float64)
            .is_finite()
            .or_(pl.col("prediction").is_null())
            .all()
        )
    for name, low, high in (("score", 0.0, 1.0), ("latency_ms", 0.0, math.inf)):
        if name in cols and cols[name] != pl.Null:
            v = pl.col(name).cast(pl.Float64)
            checks.append((v.is_null() | (v.is_finite() & (v >= low) & (v <= high))).all())
    feats = cols.get("features")
    if feats is not None and feats != pl.Null:
        _need(isinstance(feats, pl.Struct))
        checks.append(pl.col("features").is_not_null().all())
        if schema:
            fields = {f.name: f.dtype for f in feats.fields}  # type: ignore[union-attr]
            _need(set(fields) <= set(schema))
            for name, dtype in fields.items():
                kind = FeatureType(schema[name])
                field = pl.col("features").struct.field(name)
                if kind is FeatureType.NUMERIC:
                    _need(dtype.is_numeric() or dtype == pl.Null)
                    if dtype.is_float():
                        checks.append(field.is_finite().or_(field.is_null()).all())
                elif kind is FeatureType.CATEGORICAL:
                    _need(dtype in _STRINGS or dtype.is_integer())
                else:
                    _need(dtype in (pl.Boolean, pl.Null) or dtype.is_integer())
                    if dtype.is_integer():
                        checks.append(field.is_in([0, 1]).or_(field.is_null()).all())
    _need(all(df.select([c.alias(f"check{i}") for i, c in enumerate(checks)]).row(0)))

    n = df.height
    text = pl.lit(None, dtype=pl.String)
    out = [
        pl.lit(model, dtype=pl.String).alias("model_id"),
        pl.col("request_id"),
        (
            pl.col("ts")
            .str.to_datetime(time_unit="us", time_zone="UTC", strict=True)
            .dt.replace_time_zone(None)
            .fill_null(pl.lit(now, dtype=pl.Datetime("us")))  # as the per-item path: now
            if "ts" in cols and cols["ts"] != pl.Null
            else pl.lit(now, dtype=pl.Datetime("us"))
        ).alias("ts"),
        (
            pl.col("version").str.strip_prefix("v").cast(pl.Int32)
            if "version" in cols and cols["version"] != pl.Null
            else pl.lit(None, dtype=pl.Int32)
        ).alias("version"),
        (
            pl.col("environment")
            if "environment" in cols and cols["environment"] != pl.Null
            else pl.lit("production")
        ).alias("environment"),
        *[(pl.col(c).cast(pl.String) if c in cols else text).alias(c) for c in ("unit_id", "arm")],
        (
            pl.col("features").struct.json_encode()
            if feats is not None and feats != pl.Null
            else text
        ).alias("features"),
        (
            pl.col("prediction").cast(pl.String)
            if task is Task.CLASSIFICATION and "prediction" in cols
            else text
        ).alias("label"),
        (
            pl.col("prediction").cast(pl.Float64)
            if task is Task.REGRESSION and "prediction" in cols
            else pl.lit(None, dtype=pl.Float64)
        ).alias("value"),
        *[
            (pl.col(c).cast(pl.Float64) if c in cols else pl.lit(None, dtype=pl.Float64)).alias(c)
            for c in ("score", "latency_ms")
        ],
        (pl.col("error").cast(pl.String) if "error" in cols else text).alias("error"),
        pl.lit(source, dtype=pl.String).alias("source"),
    ]
    frame = df.select(out)
    _need(frame.height == n)
    if fits is not None:
        low, high = fits.window.bounds(now)
        _need(bool(frame.select(pl.col("ts").is_between(low, high).all()).item()))
    return frame.select(list(EVENT_SCHEMA)).cast(EVENT_SCHEMA)
