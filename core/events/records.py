"""The event journal's records, and loading them into the store.

A record is what `EventWriter` journals for one write (a frame or a few rows of one table)
and later loads: its format (`encode`, `decode`) and the insert of a group of records
(`insert`), which turns rows into frames a slice at a time.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

import orjson
import polars as pl

from core.errors import InvalidInput
from storage.conn import Conn
from storage.repos import events as repo

TABLES = ("prediction_events", "actuals", "invalid_requests")
"""By the index a journal record names: only ever append to it."""
KEYED = ("prediction_events", "actuals")
"""The tables whose rows are deduplicated on their key."""
_VERSION = 1
"""Of the record format below; a record of another version is set aside, never misread."""
_FRAME, _ROWS = 0, 1
SLICE_ROWS = 500
"""Rows a load turns into a frame between two chances for request threads to take the GIL."""


@dataclass(slots=True)
class Item:
    table: str
    frame: pl.DataFrame | None
    dedup: bool
    rows: list[tuple[Any, ...]] | None = None
    """Instead of a frame: a few rows in `repo.columns(table)` order (no frame to build)."""
    payload: bytes = b""
    end: int = -1
    """The journal offset just past this item's record, once journaled."""
    done: Future[int] | None = None
    """For a writer that waits while another thread commits (and for flush markers). A
    leading writer needs none: it commits the item itself. Items wait in the loader's queue
    for up to `LINGER_S`, and a Future is ten objects for the garbage collector to walk each
    time (at a few hundred requests a second, a generation-1 pass took ~0.7 ms)."""
    error: BaseException | None = None
    """Why journaling it failed."""
    leads: bool = True
    """Its writer waits, and leads the group commit that takes it; else the journal thread
    commits it (see `_leads`)."""
    journaled: bool = False
    """Its group commit is over (it is appended and synced, or refused)."""
    queued: bool = False
    """Accepted for a group commit (`_queue`)."""

    @property
    def height(self) -> int:
        return self.frame.height if self.frame is not None else len(self.rows or ())

    def as_frame(self) -> pl.DataFrame:
        return (
            self.frame if self.frame is not None else repo.rows_frame(self.table, self.rows or [])
        )


_FLOAT_COLUMNS = {
    table: [i for i, kind in enumerate(repo.columns(table).values()) if kind == pl.Float64]
    for table in TABLES
}
"""Where a row may hold NaN or infinity (by position), which JSON cannot carry."""


def encode(item: Item) -> bytes:
    """Version, table, dedup and kind in a byte each, then Arrow IPC or a JSON list of rows
    (JSON has no NaN or infinity: rows holding one go as a frame)."""
    rows = item.rows
    floats = _FLOAT_COLUMNS[item.table]
    if rows is not None and any(
        (v := r[i]) is not None and not math.isfinite(v) for r in rows for i in floats
    ):
        item = Item(item.table, item.as_frame(), item.dedup)
    head = bytes((_VERSION, TABLES.index(item.table), int(item.dedup)))
    if item.frame is not None:
        buf = BytesIO()
        item.frame.write_ipc(buf, compression="uncompressed")
        return head + bytes((_FRAME,)) + buf.getvalue()
    return head + bytes((_ROWS,)) + orjson.dumps(item.rows)


def decode(payload: bytes, end: int) -> Item:
    if payload[0] != _VERSION:
        raise ValueError(f"journal record of format {payload[0]}, this version reads {_VERSION}")
    table, dedup, kind = TABLES[payload[1]], bool(payload[2]), payload[3]
    if kind == _FRAME:
        return Item(table, pl.read_ipc(BytesIO(payload[4:])), dedup, payload=payload, end=end)
    times = [i for i, t in enumerate(repo.columns(table).values()) if isinstance(t, pl.Datetime)]
    rows: list[tuple[Any, ...]] = []
    for row in orjson.loads(payload[4:]):
        for i in times:
            if row[i] is not None:
                row[i] = datetime.fromisoformat(row[i])
        rows.append(tuple(row))
    return Item(table, None, dedup, rows=rows, payload=payload, end=end)


def checked(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` in the table's column types, refused if a required column has a gap."""
    if table not in TABLES:
        raise InvalidInput(f"no event table {table!r}")
    frame = repo.conform(table, frame)
    if (column := repo.missing_required(table, frame)) is not None:
        raise InvalidInput(f"every row needs a {column}")
    return frame


def insert(conn: Conn, table: str, items: list[Item], dedup: bool) -> None:
    if all(i.rows is not None for i in items) and sum(i.height for i in items) <= repo.SMALL_BATCH:
        repo.insert_rows(conn, table, [r for i in items for r in i.rows or ()], dedup=dedup)
        return
    # Consecutive items of tuples (lone predictions) become one frame: a frame per item cost
    # ~0.1 ms each, holding the GIL. Journal order is kept (the first of two copies wins).
    frames: list[pl.DataFrame] = []
    rows: list[tuple[Any, ...]] = []
    for item in items:
        if item.rows is not None:
            rows.extend(item.rows)
            continue
        if rows:
            frames.extend(_sliced_frames(table, rows))
            rows = []
        frames.append(item.as_frame())
    if rows:
        frames.extend(_sliced_frames(table, rows))
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    repo.insert_frame(conn, table, frame, dedup=dedup)


def _sliced_frames(table: str, rows: list[tuple[Any, ...]]) -> list[pl.DataFrame]:
    """`rows` as frames of `SLICE_ROWS`, yielding the GIL after each. Turning Python values
    into columns is the part of a load that holds the GIL (DuckDB's insert and commit
    release it): ~4 ms per 5,000 rows in one piece, and a thread wanting the GIL meanwhile
    (a request inside `predict_proba`, say) waited 1.5-3 ms at a time; in slices, it waits
    at most a slice, ~0.4 ms (measured with a probe thread)."""
    frames: list[pl.DataFrame] = []
    for start in range(0, len(rows), SLICE_ROWS):
        frames.append(repo.rows_frame(table, rows[start : start + SLICE_ROWS]))
        time.sleep(0)  # releases the GIL: a waiting request thread takes it here
    return frames
