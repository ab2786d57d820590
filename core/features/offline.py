"""Point-in-time-correct retrieval: for each entity row and its time, the feature values
that were true then — never a value from the future, never one older than the view's TTL.

The join itself is DuckDB's ASOF LEFT JOIN (storage/repos/features.py): per view, the row
with the same key and the greatest event time at or before the entity row's time. Rows
sharing a key and an event time are first reduced to the newest created (then the latest
ingested); the store remembers whether a view has any such ties, so views without them skip
that step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from core.errors import InvalidInput
from core.features.ingest import KEY_TYPES, parse_times
from storage.conn import Conn
from storage.repos import features as repo


@dataclass(frozen=True)
class ViewRead:
    """What the join needs of one view."""

    source: repo.Source
    join_key: str
    features: tuple[str, ...]
    ttl_s: float | None


def entity_frame(
    entities: object,
    timestamp: str,
    keys: Mapping[str, str],
    outputs: Sequence[str],
) -> pl.DataFrame:
    """The caller's entity rows, checked (anything but a Polars frame is refused), with the
    timestamp as naive UTC, each key column of its entity's type, and their positions
    (repo.ROW) to return them in order.

    `keys` maps each join key needed to its value type; `outputs` are the feature columns
    the answer will add, which must not collide with the frame's own columns."""
    if not isinstance(entities, pl.DataFrame):
        raise InvalidInput("the entity rows must be a table (a Polars frame)")
    columns = entities.columns
    if timestamp not in columns:
        raise InvalidInput(
            f"the entity rows have no timestamp column {timestamp!r} (columns: {', '.join(columns)})"
        )
    missing = [k for k in keys if k not in columns]
    if missing:
        raise InvalidInput(
            f"the entity rows lack key column(s) {', '.join(missing)} of the views asked for"
            f" (columns: {', '.join(columns)})"
        )
    lowered = {c.lower(): c for c in columns}
    clash = [f for f in outputs if f.lower() in lowered]
    if clash:
        raise InvalidInput(
            f"the entity rows already have column(s) {', '.join(lowered[c.lower()] for c in clash)},"
            " which a requested feature would add: rename or drop them"
        )
    if repo.ROW in columns:
        raise InvalidInput(f"the entity rows cannot have a column named {repo.ROW}")
    times, bad = parse_times(entities.get_column(timestamp))
    if bad.any():
        row = int(bad.arg_true()[0])
        raise InvalidInput(
            f"entity row {row + 1}: {timestamp} is not a time: {entities[timestamp][row]!r}"
        )
    frame = entities.with_columns(times.alias(timestamp))
    for key, value_type in keys.items():
        dtype = KEY_TYPES[value_type]
        raw = frame.get_column(key)
        if raw.dtype == dtype:
            continue
        cast = raw.cast(dtype, strict=False)
        wrong = raw.is_not_null() & cast.is_null()
        if wrong.any():
            row = int(wrong.arg_true()[0])
            raise InvalidInput(
                f"entity row {row + 1}: {key} {raw[row]!r} is not a{'n integer' if value_type == 'int' else ' string'}"
            )
        frame = frame.with_columns(cast.alias(key))
    return frame.with_row_index(repo.ROW)


def historical(
    conn: Conn, entities: pl.DataFrame, timestamp: str, reads: Sequence[ViewRead]
) -> pl.DataFrame:
    """`entities` (from `entity_frame`) with every requested feature as of its row's time."""
    joins = [
        repo.Join(
            source=r.source,
            key=r.join_key,
            features=r.features,
            ttl_us=None if r.ttl_s is None else round(r.ttl_s * 1_000_000),
        )
        for r in reads
    ]
    found = repo.point_in_time(conn, entities, timestamp, joins)
    return found.drop(repo.ROW)
