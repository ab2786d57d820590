"""The DuckDB store: one file per `$MLC_HOME`, one owner process, serialised writes.

The store is private to its user (`storage.private`): opening one sets this process's umask to
077 and takes group and other permissions off whatever is already there. Its audit log is
sealed by a key and a head kept beside the database (`storage.audit_seal`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from storage.audit_seal import AuditSeal
from storage.conn import Conn, translated
from storage.errors import StoreError, StoreUnavailable
from storage.migrations.runner import migrate
from storage.owner import clear_owner, describe_holder, write_owner
from storage.paths import ARTIFACTS_DIR, DB_FILE
from storage.private import DIR_MODE, make_private, use_private_umask

_LOCK_MARKER = "Could not set lock on file"


class Store:
    """An open store. Reads run on their own cursors in parallel; writes are serialised.

    Writes are few and short (registrations, revisions, audit records) while events arrive
    in batches, so one process-wide write lock costs nothing and makes allocation of version
    numbers and audit sequence numbers race-free without retry loops.
    """

    def __init__(self, home: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.home = home
        self._con = con
        self._write_lock = threading.RLock()
        self._closed = False
        # One long-lived cursor for every write (they are serialised anyway): a fresh cursor's
        # first statement costs ~2 ms more than a warm one's (measured on one-row commits).
        self._writer: duckdb.DuckDBPyConnection | None = None
        self._local = threading.local()
        self._read_barriers: list[Callable[[], None]] = []
        self.audit_seal: AuditSeal | None = None
        """Set by `open` once the migrations ran; every cursor carries it (`Conn.seal`)."""

    def add_read_barrier(self, barrier: Callable[[], None]) -> None:
        """Run `barrier` before a read's first statement over an event table: what makes
        events written elsewhere first (the event journal) visible to their readers."""
        self._read_barriers.append(barrier)

    def _wait_for_events(self) -> None:
        for barrier in list(self._read_barriers):
            barrier()

    def remove_read_barrier(self, barrier: Callable[[], None]) -> None:
        if barrier in self._read_barriers:
            self._read_barriers.remove(barrier)

    def writing(self) -> bool:
        """Whether this thread is inside `write()` (and so holds the write lock)."""
        return getattr(self._local, "depth", 0) > 0

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def artifacts_dir(self) -> Path:
        return self.home / ARTIFACTS_DIR

    @classmethod
    def open(cls, home: Path, *, wait_s: float = 2.0) -> Store:
        """Open (creating if needed) and migrate the store in `home`.

        If another process holds it, retry for `wait_s` seconds (a short-lived command may be
        about to finish), then raise `StoreUnavailable` naming the holder. Once this process
        holds it, anything in it open to other users is made private, with a warning.
        """
        try:
            # The parents are the user's (~/.local/share, say): made with their umask.
            home.parent.mkdir(parents=True, exist_ok=True)
            use_private_umask()
            home.mkdir(mode=DIR_MODE, exist_ok=True)
            (home / ARTIFACTS_DIR).mkdir(mode=DIR_MODE, exist_ok=True)
        except OSError as e:
            raise StoreUnavailable(f"cannot create store directory {home}: {e.strerror}") from e
        deadline = time.monotonic() + wait_s
        while True:
            try:
                con = duckdb.connect(str(home / DB_FILE))
                break
            except duckdb.IOException as e:
                if _LOCK_MARKER not in str(e):
                    raise StoreUnavailable(f"cannot open store {home}: {e}") from e
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(describe_holder(home, str(e))) from e
                time.sleep(0.05)
            except duckdb.Error as e:
                raise StoreUnavailable(f"cannot open store {home}: {e}") from e
        store = cls(home, con)
        try:
            make_private(home)
            write_owner(home)
            with store._write_lock:
                migrate(Conn(con))
                store.audit_seal = AuditSeal.open(home, Conn(con))
        except BaseException:
            store.close()
            raise
        return store

    @contextmanager
    def read(self) -> Generator[Conn]:
        """A cursor for reading; safe to use from any thread."""
        self._check_open()
        with translated():
            cur = self._con.cursor()
        conn = Conn(cur, self._wait_for_events if self._read_barriers else None)
        conn.seal = self.audit_seal
        try:
            yield conn
        finally:
            cur.close()

    @contextmanager
    def write(self) -> Generator[Conn]:
        """One transaction, committed on success and rolled back on any error."""
        self._check_open()
        with self._write_lock:
            self._check_open()  # closed while this thread waited for the lock
            if self._writer is None:
                with translated():
                    self._writer = self._con.cursor()
            cur = self._writer
            conn = Conn(cur)
            conn.seal = self.audit_seal
            self._local.depth = getattr(self._local, "depth", 0) + 1
            try:
                conn.execute("BEGIN TRANSACTION")
                try:
                    yield conn
                except BaseException:
                    with translated():
                        cur.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                self._local.depth -= 1
        for done in conn.committed:
            done()

    def checkpoint(self) -> None:
        with self._write_lock, translated("CHECKPOINT"):
            self._con.execute("CHECKPOINT")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            # A transaction another thread has begun finishes first: DuckDB refuses to close
            # a cursor busy with another call ("connection is busy"), and the write is kept.
            with self._write_lock:
                if self._writer is not None:
                    self._writer.close()
            self._con.close()
        finally:
            clear_owner(self.home)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
