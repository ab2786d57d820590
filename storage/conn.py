"""A thin wrapper over a DuckDB cursor: bound parameters only, and our own errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import duckdb
import polars as pl

from storage.errors import Conflict, StoreError

if TYPE_CHECKING:
    from storage.audit_seal import AuditSeal

_EVENT_TABLES = re.compile(
    r"\b(prediction_events|actuals|invalid_requests|event_keys|event_rollups|rollup_dirty|rollup_watermarks)\b"
)


@contextmanager
def translated(sql: str = "") -> Generator[None]:
    """Turn any `duckdb.Error` raised inside into the project's exceptions."""
    try:
        yield
    except duckdb.ConstraintException as e:
        raise Conflict(f"constraint violated: {_first_line(e)}") from e
    except duckdb.Error as e:
        where = f" in: {sql.split()[0:3]}" if sql else ""
        raise StoreError(f"database error{where}: {_first_line(e)}") from e


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


Params = Sequence[Any] | dict[str, Any]


def _arrow(frame: pl.DataFrame) -> object:
    """Zero-copy Arrow for DuckDB: string columns leave as Arrow string views (Polars'
    own layout); the default large strings copy every value (~2 ms per 4,000 events)."""
    # pyarrow ships no types: DuckDB takes the table as any object.
    return cast(object, frame.to_arrow(compat_level=pl.CompatLevel.newest()))


def naive_utc(t: datetime) -> datetime:
    """A time as stored: naive UTC. TIMESTAMPTZ arithmetic needs DuckDB's ICU extension,
    which is not bundled and cannot be downloaded on a closed network."""
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo is not None else t


def _bindable(value: Any) -> Any:
    return naive_utc(value) if isinstance(value, datetime) else value


def _bind(params: Params) -> Params:
    if isinstance(params, dict):
        return {k: _bindable(v) for k, v in params.items()}
    return [_bindable(v) for v in params]


class Conn:
    """One cursor of the store. Every user value reaches SQL as a bound parameter."""

    def __init__(
        self,
        cursor: duckdb.DuckDBPyConnection,
        before_events: Callable[[], None] | None = None,
    ) -> None:
        self._cur = cursor
        self._before_events = before_events
        self.committed: list[Callable[[], None]] = []
        """Run by `Store.write` once this transaction commits (never after a rollback)."""
        self.seal: AuditSeal | None = None
        """The store's audit key and head, for `core.audit` (set by `Store` on its cursors)."""

    def _guard(self, sql: str) -> AbstractContextManager[None]:
        # The first statement that touches an event table waits for events still on their
        # way in (`Store.add_read_barrier`); every other read goes straight through.
        if self._before_events is not None and _EVENT_TABLES.search(sql):
            wait, self._before_events = self._before_events, None
            wait()
        return translated(sql)

    def execute(self, sql: str, params: Params = ()) -> Conn:
        with self._guard(sql):
            self._cur.execute(sql, _bind(params))
        return self

    def rows(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with self._guard(sql):
            self._cur.execute(sql, _bind(params))
            names = [d[0] for d in self._cur.description or ()]
            return [dict(zip(names, r, strict=True)) for r in self._cur.fetchall()]

    def row(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Params = ()) -> Any:
        with self._guard(sql):
            self._cur.execute(sql, _bind(params))
            got = self._cur.fetchone()
            self._cur.complete()  # DuckDB 2: an unread rest blocks register() on this cursor
        return got[0] if got else None

    def frame(self, sql: str, params: Params = ()) -> pl.DataFrame:
        with self._guard(sql):
            return self._cur.sql(sql, params=_bind(params)).pl()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._guard(sql):
            self._cur.executemany(sql, [_bind(r) for r in rows])

    def insert_select(self, sql: str, frame: pl.DataFrame) -> int:
        """Run `sql`, which reads the Polars frame as the relation `_frame` (zero-copy Arrow);
        return the number of rows it changed."""
        with self._registered({"_frame": frame}), self._guard(sql):
            got = self._cur.execute(sql).fetchall()
        return int(got[0][0]) if got else 0

    def execute_over(self, sql: str, frames: dict[str, pl.DataFrame], params: Params = ()) -> Conn:
        """Run `sql`, which reads each Polars frame as the relation named by its key."""
        with self._registered(frames), self._guard(sql):
            self._cur.execute(sql, _bind(params))
        return self

    def frame_over(
        self, sql: str, frames: dict[str, pl.DataFrame], params: Params = ()
    ) -> pl.DataFrame:
        """`execute_over`, answering with the result as a Polars frame."""
        with self._registered(frames), self._guard(sql):
            return self._cur.sql(sql, params=_bind(params)).pl()

    @contextmanager
    def _registered(self, frames: dict[str, pl.DataFrame]) -> Generator[None]:
        for name, frame in frames.items():
            self._cur.register(name, _arrow(frame))
        try:
            yield
        finally:
            for name in frames:
                self._cur.unregister(name)

    def insert_frame(self, table: str, frame: pl.DataFrame) -> int:
        """Append a Polars frame in one statement (the fast path: never row by row).

        `table` is an identifier chosen by code, never by a user.
        """
        if frame.is_empty():
            return 0
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        self.insert_select(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _frame", frame)
        return frame.height
