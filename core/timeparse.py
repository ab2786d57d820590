"""Durations (`90s`, `5m`, `1h`, `7d`) and `--since` values."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text)
    if not m:
        raise InvalidInput(
            f"invalid duration {text!r}: use a number and a unit (ms, s, m, h, d, w), e.g. 10m"
        )
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def duration_text(seconds: float | None) -> str:
    """A duration the way people write it (`90d`, `12h`, `45s`); `none` for no limit."""
    if seconds is None:
        return "none"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """A duration back from now (`1h`), or an ISO-8601 time (UTC if no offset is given)."""
    now = now or datetime.now(UTC)
    if _DURATION.match(text):
        return now - parse_duration(text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"invalid time {text!r}: use a duration such as 1h or an ISO time such as"
            " 2026-11-26T09:00"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
