"""The fields of prediction requests, log-only events and actuals, each checked.

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
The frames the event tables store are built from these checks in `core.events.frames`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from core.domain import Environment, FeatureType, Task
from core.errors import InvalidInput
from core.names import version_number
from core.timeparse import duration_text, parse_duration

MAX_ID = 200
"""Characters of a request id, a unit id or an arm."""
MAX_ERROR = 1_000
"""Characters of a log-only event's error."""
MAX_AGE_ENV, MAX_AHEAD_ENV = "MLC_EVENT_MAX_AGE", "MLC_EVENT_MAX_AHEAD"
ENVIRONMENTS = tuple(e.value for e in Environment)


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
    given = cast("Mapping[str, object]", features)  # JSON values: each checked below
    expected = known if known is not None else schema
    for key in given:
        if key not in expected:
            raise InvalidInput(
                f"{_where(index)}unknown feature {key!r}; expected {', '.join(expected)}"
            )
    out: dict[str, Any] = {}
    for name, kind in schema.items():
        value = given.get(name)
        if value is None:
            out[name] = None
        elif kind == _CATEGORICAL:
            if type(value) is str:
                out[name] = value
            elif type(value) is bool or not isinstance(value, str | int | float):
                raise InvalidInput(f"{_where(index)}feature {name!r} must be a string")
            else:
                out[name] = str(value)
        elif kind == _BINARY:
            if isinstance(value, bool) or value in (0, 1):
                out[name] = float(value)
            else:
                raise InvalidInput(f"{_where(index)}feature {name!r} must be true or false")
        elif type(value) is float and math.isfinite(value):
            out[name] = value
        elif type(value) is int:
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


def timestamp(raw: Any, index: int | None, now: datetime, fits: Fits | None) -> datetime:
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


def version_field(raw: Any, index: int, fits: Fits | None) -> int | None:
    if raw is None:
        return None
    number = version_number(str(raw))
    if number is None:
        raise InvalidInput(f"{_where(index)}version must look like v3")
    return number if fits is None else fits.version(number, index)


def text_field(raw: Any, index: int | None, name: str, limit: int) -> str | None:
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


def environment_field(raw: Any, index: int | None) -> str:
    if raw is None or raw == "":
        return Environment.PRODUCTION.value
    if raw not in ENVIRONMENTS:
        raise InvalidInput(
            f"{_where(index)}unknown environment {raw!r}: use {' or '.join(ENVIRONMENTS)}"
        )
    return str(raw)


def unit_id(raw: Any, index: int | None) -> str:
    """A request's given `unit_id`: a string (or an integer) of at most `MAX_ID` characters
    (a request without one is its own unit: the caller's choice)."""
    if type(raw) is str and len(raw) <= MAX_ID:  # the usual: a type check and a len()
        return raw
    text = text_field(raw, index, "unit_id", MAX_ID)
    if text is None:
        raise InvalidInput(f"{_where(index)}unit_id must be a string")
    return text


def outcome(
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


def finite(
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


def now_naive() -> datetime:
    """UTC now as stored (naive)."""
    return datetime.now(UTC).replace(tzinfo=None)
