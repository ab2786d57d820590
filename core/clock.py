"""The one place the engine reads the time, so tests can pin it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """DuckDB returns zoneinfo 'Etc/UTC'; normalise to `datetime.UTC` for stable output."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
