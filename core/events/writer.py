"""Durable ingest of prediction events and actuals: journaled first, loaded in batches.

Callers hand rows to `EventWriter.write` (a frame) or `write_rows` (a few tuples) and, with
`wait`, block until they are durable: appended to the event journal and synced, together with
everything else that arrived meanwhile (a group commit, ~0.15 ms here, where a DuckDB commit
costs 1–3 ms). A loader thread then moves journaled rows into DuckDB in large transactions,
each recording the journal offset it reached, so after a crash exactly the records past it
are replayed (`storage/journal.py`). Deduplication of client request ids happens there, so a
replayed batch is acknowledged again but stored once; each write still learns at once how many
of its rows are new, from the keys it claims first (`core/events/seen_keys.py`).

Rows are checked against the tables' constraints before they are acknowledged. Should a
record still fail to load, it is set aside in `journal/rejected/` (and logged) rather than
blocking every record behind it. Reads of the event tables see every acknowledged row: their
first statement waits for the loader when rows are pending (`Store.add_read_barrier`). So
the rows waiting to be loaded are bounded: when loading them would take the loader more than
`max_lag_s` at its recent pace (or more than `max_pending` rows wait), new writes are refused
with `Overloaded` (HTTP 503 + Retry-After) instead of queueing: a reader (`mlc status`)
never waits long behind ingest, and memory does not grow with the backlog.
"""

# Over 400 lines: `EventWriter` is one protocol between request threads, the journal thread
# and the loader thread, all under one lock and one set of counters; what stands alone (the
# record format and the load, `records.py`; the queue, the key claims) lives beside it.

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent.futures import Future
from typing import Any

import polars as pl

from core.errors import InvalidInput, Overloaded, StoreUnavailable
from core.events.batch_queue import BatchQueue
from core.events.records import KEYED, TABLES, Item, checked, decode, encode, insert
from core.events.seen_keys import Claim, SeenKeys
from storage import journal as journal_repo
from storage.journal import Journal
from storage.paths import JOURNAL_DIR
from storage.repos import events as repo
from storage.store import Store

log = logging.getLogger(__name__)

_MAX_JOURNAL_BATCH_BYTES = 32 * 1024 * 1024
_ATTEMPTS = 3
LINGER_S = 5.0
LINGER_ROWS = 5_000
"""The loader waits up to `LINGER_S` to gather `LINGER_ROWS` rows (then takes whatever else
is queued, up to `max_batch`), unless a reader is waiting."""
DEFAULT_MAX_LAG_S = 1.0
_RATE_MIN_ROWS = 1_000
"""Loads smaller than this do not update the loader's pace: their time is mostly a commit's."""


def _leads() -> bool:
    """May a waiting writer in this thread lead a group commit? Not where Ctrl+C raises
    KeyboardInterrupt: it can strike at any point, and halfway through a commit it would
    leave the journal's offsets or the hand-off to the loader half done. That is the main
    thread, unless SIGINT is ignored, kills the process, or is handled by an asyncio loop
    (`mlc serve`, whose lone predictions run on its loop in the main thread). Elsewhere the
    journal thread commits, and an interrupted writer leaves its item queued for it."""
    if threading.current_thread() is not threading.main_thread():
        return True
    handler = signal.getsignal(signal.SIGINT)
    return handler in (signal.SIG_IGN, signal.SIG_DFL) or (
        getattr(handler, "__module__", None) == "asyncio.unix_events"  # its no-op wake-up
    )


class EventWriter:
    def __init__(
        self,
        store: Store,
        *,
        max_pending: int = 500_000,
        max_batch: int = 200_000,
        max_lag_s: float | None = DEFAULT_MAX_LAG_S,
    ) -> None:
        self.store = store
        self.max_pending = max_pending
        self.max_batch = max_batch
        self.max_lag_s = max_lag_s
        """Refuse writes while loading the pending rows would take longer (None: no bound)."""
        self.load_rate: float | None = None
        """Rows a second the loader has loaded lately, timed over its loads alone."""
        self.journal = Journal(store.home / JOURNAL_DIR)
        self.loads = 0
        self.seen = SeenKeys(self._stored_keys)
        self._replay()
        self._to_load: BatchQueue[list[Item]] = BatchQueue()
        """Journaled groups, in journal order, for the loader."""
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)
        """Signalled when a group commit ends or an item nobody waits for arrives."""
        self._queued: list[Item] = []
        """Accepted items (and flush markers) waiting for the next group commit, in order."""
        self._unled = 0
        """Queued items no writer leads a commit for: the journal thread commits those."""
        self._waiting = 0
        """Writers waiting on `_turn` for a group commit that another leads."""
        self._appending = False
        self._pending = 0
        """Rows accepted and not yet loaded (journaled or on their way)."""
        self._failure: BaseException | None = None
        """Set when the store refused a load: rows stay journaled, for the next open."""
        self._closed = False
        self._threads = [
            threading.Thread(target=self._journal_loop, name="mlc-event-journal", daemon=True),
            threading.Thread(target=self._load_loop, name="mlc-event-loader", daemon=True),
        ]
        for t in self._threads:
            t.start()
        store.add_read_barrier(self._before_read)

    # --- callers ---------------------------------------------------------------------------

    def write(
        self, table: str, frame: pl.DataFrame, *, wait: bool = True, dedup: bool = True
    ) -> int:
        """Queue rows for the next group commit; with `wait`, return once they are durable.
        Returns how many rows are new: with `dedup`, those whose key neither an earlier row
        of `frame` nor an earlier write had (`SeenKeys`), else all.

        `dedup=False` only for request ids generated by the server itself."""
        return self._put(Item(table, checked(table, frame), dedup), wait)

    def write_rows(
        self, table: str, rows: list[tuple[Any, ...]], *, wait: bool = True, dedup: bool = True
    ) -> int:
        """`write` for rows as tuples in `repo.columns(table)` order: the gateway's events
        skip building a frame on the request's path (the loader builds one per load)."""
        if table not in TABLES:
            raise InvalidInput(f"no event table {table!r}")
        width = len(repo.columns(table))
        if any(len(r) != width for r in rows):
            raise InvalidInput(f"a {table} row has {width} values")
        return self._put(Item(table, None, dedup, rows=rows), wait)

    def _put(self, item: Item, wait: bool) -> int:
        claim = self._claim(item)
        try:
            height = self._enqueue(item, wait)
        except BaseException:
            # Given back unless the rows may still be stored: an interrupted writer's queued
            # item is journaled all the same (see `_leads`).
            if claim is not None and (not item.queued or item.error is not None):
                self.seen.release(claim)
            raise
        if claim is None:
            return height
        self.seen.confirm(claim)
        return claim.new

    def _claim(self, item: Item) -> Claim | None:
        """Claim the keys of a deduplicated item's rows (see `SeenKeys`)."""
        if not item.dedup or item.table not in KEYED or not item.height:
            return None
        self._refuse_if_unable()  # before the first claim reads a closed store
        if item.frame is not None:
            models, ids = item.frame["model_id"].to_list(), item.frame["request_id"].to_list()
        else:
            models, ids = [r[0] for r in item.rows or ()], [r[1] for r in item.rows or ()]
        return self.seen.claim(item.table, repo.key_highs(models, ids))

    def _stored_keys(self, table: str) -> Any:
        with self.store.read() as conn:
            return repo.stored_key_highs(conn, table)

    def _enqueue(self, item: Item, wait: bool) -> int:
        height = item.height
        if not height:
            return 0
        if item.rows is not None and (
            column := repo.missing_required_in_rows(item.table, item.rows)
        ):
            raise InvalidInput(f"every row needs a {column}")
        item.payload = encode(item)  # in the caller's thread: encoding runs in parallel
        item.leads = wait and _leads()
        if wait and not item.leads:
            item.done = Future()
        with self._lock:
            self._refuse_if_unable()
            if self._pending + height > self.max_pending:
                raise Overloaded(
                    f"ingest is behind by {self._pending:,} rows; retry shortly", retry_after_s=1.0
                )
            lag = self._lag_s(height)
            if lag is not None:
                raise Overloaded(
                    f"ingest is behind by {self._pending:,} rows (~{lag:.1f} s of loading, over"
                    f" the {self.max_lag_s:g} s bound); retry shortly",
                    retry_after_s=max(1.0, lag),
                )
            self._pending += height
            self._queue(item)
        if not wait:
            return height
        if item.leads:
            self._commit(item)
            if item.error is not None:
                raise item.error
            return height
        assert item.done is not None
        return item.done.result()

    def _lag_s(self, height: int) -> float | None:
        """With `_lock` held: how long loading what is pending and `height` more rows would
        take, when that is over `max_lag_s` (else None). A write to an empty backlog always
        goes in, whatever its size."""
        if self.max_lag_s is None or not self._pending or not self.load_rate:
            return None
        lag = (self._pending + height) / self.load_rate
        return lag if lag > self.max_lag_s else None

    @property
    def failure(self) -> BaseException | None:
        """Why the store refused a load, if it did: events are then refused until a restart."""
        return self._failure

    @property
    def idle(self) -> bool:
        """No group commit under way or waiting: a write now leads its own at once."""
        return not self._appending and not self._queued

    def _refuse_if_unable(self) -> None:
        if self._closed:
            raise StoreUnavailable("the store is closing; events are no longer accepted")
        if self._failure is not None:
            raise StoreUnavailable(
                f"events cannot be stored ({self._failure}); restart the owner, which loads"
                " the journaled events"
            )

    def flush(self) -> None:
        """Return once every row queued before this call is loaded into the event tables."""
        marker = Item("", None, dedup=False, leads=_leads(), done=Future())
        with self._lock:
            if self._closed:
                return
            self._queue(marker)
        if marker.leads:
            self._commit(marker)  # passes it to the loader behind everything queued before
        assert marker.done is not None
        marker.done.result()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._turn.notify_all()
        self.store.remove_read_barrier(self._before_read)
        for t in self._threads:
            t.join(timeout=60)
        if any(t.is_alive() for t in self._threads):
            log.error("the event writer did not stop in 60 s; its rows stay journaled")
            return
        self.journal.close()
        if self._failure is None:
            with self.store.read() as conn:
                done = journal_repo.loaded_through(conn)
            self._drop_loaded(done)

    def _before_read(self) -> None:
        # A reader holding the write lock would wait for a loader that needs it.
        if self._pending and self._failure is None and not self.store.writing():
            self.flush()

    # --- at open: what a crash left unloaded ------------------------------------------------

    def _replay(self) -> None:
        with self.store.read() as conn:
            after = journal_repo.loaded_through(conn)
        batch: list[Item] = []
        rows = replayed = 0
        for end, payload in self.journal.unloaded(after):
            try:
                item = decode(payload, end)
            except Exception as e:  # a record this version cannot read: set aside, not lost
                if batch:  # what came before it first, so the offset only moves forward
                    self._load_or_reject(batch)
                    replayed, batch, rows = replayed + rows, [], 0
                self._reject(Item("", None, False, payload=payload, end=end), e)
                continue
            batch.append(item)
            rows += item.height
            if rows >= self.max_batch:
                self._load_or_reject(batch)
                replayed, batch, rows = replayed + rows, [], 0
        if batch:
            self._load_or_reject(batch)
            replayed += rows
        if replayed:
            log.info("loaded %d journaled rows left by the last run", replayed)
        self._drop_loaded(self.journal.end)

    # --- group commit: append, sync, acknowledge ----------------------------------------

    def _queue(self, item: Item) -> None:
        """With `_lock` held: queue `item` for the next group commit."""
        item.queued = True
        self._queued.append(item)
        if not item.leads:
            self._unled += 1
            self._turn.notify_all()

    def _commit(self, item: Item) -> None:
        """Return once `item` is journaled, leading a group commit when none is under way.

        The writer appends and syncs its own group, with whatever else queued meanwhile, in
        its own thread: handing it to a journal thread and back cost a lone prediction
        ~0.2 ms at p50 and more at p99 (two thread wake-ups, measured)."""
        with self._turn:
            while not item.journaled:
                if not self._appending:
                    self._append_group()
                else:
                    self._waiting += 1
                    try:
                        self._turn.wait()
                    finally:
                        self._waiting -= 1

    def _append_group(self) -> None:
        """With `_turn` held and no group under way: take the queued items and journal them
        as one group, releasing the lock during the write and sync. Groups are journaled and
        handed to the loader one at a time, so the loader sees them in journal order."""
        cut = size = 0
        while cut < len(self._queued) and size < _MAX_JOURNAL_BATCH_BYTES:
            size += len(self._queued[cut].payload)
            cut += 1
        batch, self._queued = self._queued[:cut], self._queued[cut:]
        self._unled -= sum(1 for i in batch if not i.leads)
        self._appending = True
        self._lock.release()
        try:
            self._journal(batch)
        finally:
            self._lock.acquire()
            self._appending = False
            for item in batch:
                item.journaled = True
            # Only when someone has a reason to wake: a lone writer's every commit woke the
            # journal thread to find nothing to do, taking the GIL from the request.
            if self._waiting or self._unled or self._closed:
                self._turn.notify_all()

    def _journal(self, batch: list[Item]) -> None:
        rows = [i for i in batch if i.table]
        try:
            ends = self.journal.append([i.payload for i in rows]) if rows else []
        except BaseException as e:  # every waiter must hear about it, whatever it was
            log.exception("journaling %d event batches failed", len(rows))
            with self._lock:
                self._pending -= sum(i.height for i in rows)
            for item in rows:
                item.error = e
                if item.done is not None:
                    item.done.set_exception(e)
            batch = [i for i in batch if not i.table]  # flush markers still go through
        else:
            for item, end in zip(rows, ends, strict=True):
                item.end = end
                if item.done is not None:
                    item.done.set_result(item.height)
        if batch:
            urgent = any(not i.table for i in batch)  # a flush waits for it
            self._to_load.put(batch, sum(i.height for i in batch), urgent=urgent)

    def _journal_loop(self) -> None:
        """Commits what no writer leads a commit for; at close, once every accepted item is
        journaled, tells the loader to stop."""
        with self._turn:
            while True:
                if (self._unled or (self._closed and self._queued)) and not self._appending:
                    self._append_group()
                elif self._closed and not self._queued and not self._appending:
                    break
                else:
                    self._turn.wait()
        self._to_load.close()

    # --- the loader thread: journal → DuckDB, exactly once ------------------------------

    def _load_loop(self) -> None:
        """At a low rate, linger for more rows unless a reader waits: a load is a DuckDB
        transaction with its own commit (7 ms here for 250 rows, 15-30 ms beside requests)
        competing with them for the CPU. Loading every 50 ms cost single predictions ~1 ms at
        p50; every second instead of every 5 s cost them ~0.5 ms at p99 (9 of 11 paired
        servers, measured). Readers lose nothing by the wait: they flush first. At a high
        rate, take what is queued: the loader is then the bottleneck."""
        while (groups := self._to_load.take(LINGER_S, LINGER_ROWS, self.max_batch)) is not None:
            batch = [item for group in groups for item in group]
            try:
                items = [i for i in batch if i.table]
                if items and self._failure is None:
                    began = time.perf_counter()
                    self._load_or_reject(items)
                    self._note_rate(sum(i.height for i in items), time.perf_counter() - began)
                    self._drop_loaded(items[-1].end)
            except BaseException as e:  # the store refused: keep everything journaled
                log.exception("loading journaled events failed; they stay journaled")
                with self._lock:
                    self._failure = e
            finally:
                with self._lock:
                    self._pending -= sum(i.height for i in batch)
                for marker in (i for i in batch if not i.table):
                    assert marker.done is not None
                    if self._failure is None:
                        marker.done.set_result(0)
                    else:
                        marker.done.set_exception(self._failure)

    def _note_rate(self, rows: int, took_s: float) -> None:
        if rows < _RATE_MIN_ROWS or took_s <= 0:
            return  # a handful of rows times the commit, not the pace
        rate = rows / took_s
        with self._lock:
            self.load_rate = rate if self.load_rate is None else 0.7 * self.load_rate + 0.3 * rate

    def _load_or_reject(self, items: list[Item]) -> None:
        """Load `items` in one transaction. If that fails, load them one by one, each with a
        few retries; one that still fails while the store takes other writes is bad data and
        is set aside. Raises when the store itself fails (the rows stay journaled)."""
        try:
            self._load(items)
            return
        except Exception:
            log.warning("loading %d journaled records failed; trying each", len(items))
        for item in items:
            error: Exception | None = None
            for attempt in range(_ATTEMPTS):
                try:
                    self._load([item])
                except Exception as e:
                    error = e
                    time.sleep(0.2 * 2**attempt)
                else:
                    error = None
                    break
            if error is not None:
                self._reject(item, error)

    def _load(self, items: list[Item]) -> None:
        by_table: dict[tuple[str, bool], list[Item]] = {}
        for item in items:
            by_table.setdefault((item.table, item.dedup), []).append(item)
        with self.store.write() as conn:
            for (table, dedup), group in by_table.items():
                insert(conn, table, group, dedup)
            journal_repo.set_loaded_through(conn, max(i.end for i in items))
        self.loads += 1

    def _reject(self, item: Item, error: BaseException) -> None:
        """Keep a record that cannot be loaded in `journal/rejected/` and step past it, in one
        transaction: if the store itself is what fails, this raises and nothing moves."""
        with self.store.write() as conn:
            journal_repo.set_loaded_through(conn, item.end)
            path = self.journal.set_aside(item.end, item.payload)
        log.error("journal record ending at %d could not be loaded (%s); kept in %s",
                  item.end, error, path)  # fmt: skip

    def _drop_loaded(self, offset: int) -> None:
        try:
            self.journal.drop_loaded(offset)
        except OSError:  # only space is at stake: the segments are loaded
            log.warning("could not delete loaded journal segments", exc_info=True)
