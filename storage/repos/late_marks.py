"""Late events against sealed rollup minutes: the part of the rollups the event writes need.

The event repository marks, in the transaction that stores an event, the sealed minute it
lands in as dirty; the rollups (`storage.repos.rollups`) seal minutes and read the events.
Apart, each imports this module and neither imports the other at run time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from storage.conn import Conn, naive_utc

SEAL_GUARD = timedelta(seconds=90)
"""Minutes newer than this (by the wall clock) are never sealed, so an event logged with
the current time never lands in a sealed minute and needs no check."""


def wall_clock() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def may_be_sealed(oldest: datetime) -> bool:
    """Whether an event at `oldest` could fall in a sealed minute (else skip the check)."""
    return naive_utc(oldest) < wall_clock() - SEAL_GUARD


def mark_late(conn: Conn, frame: pl.DataFrame) -> None:
    """Inside the transaction inserting `frame` (prediction events): mark the sealed minutes
    it adds events to as dirty. Cheap to skip for live traffic (see `may_be_sealed`)."""
    oldest = frame["ts"].min()
    if oldest is None or not may_be_sealed(oldest):  # type: ignore[arg-type]
        return  # live traffic: no sealed minute can be touched
    conn.insert_select(
        """INSERT OR IGNORE INTO rollup_dirty
        SELECT DISTINCT f.model_id, date_trunc('minute', f.ts)
        FROM _frame f JOIN rollup_watermarks w ON f.model_id = w.model_id
        WHERE f.ts < w.sealed_until""",
        frame.select("model_id", "ts"),
    )
