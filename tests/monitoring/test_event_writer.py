"""EventWriter: rows as tuples and as frames, mixed, with client ids replayed; a late row for
a sealed minute marks it dirty."""

from __future__ import annotations

import asyncio
import signal
import threading
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from core.engine import LocalEngine
from storage.repos import events as repo

T0 = datetime(2026, 3, 1, 12, 0)


def _row(rid: str, ts: datetime, label: str = "1") -> tuple:
    return ("m", rid, ts, 1, "production", None, None, None, label, None, 0.4, 2.0, None, "t")


def _count(engine: LocalEngine, table: str = "prediction_events") -> int:
    with engine.store.read() as conn:
        return int(conn.scalar(f"SELECT count(*) FROM {table}"))


def test_rows_frames_and_replays(engine: LocalEngine) -> None:
    engine.create_model("m", "classification")
    now = datetime.now(UTC).replace(tzinfo=None)
    w = engine.writer
    assert w.write_rows("prediction_events", [_row(f"s{i}", now) for i in range(3)], dedup=False)
    assert _count(engine) == 3 and _count(engine, "event_keys") == 0
    client = [_row(f"c{i}", now) for i in range(3)]
    w.write_rows("prediction_events", client)
    w.write_rows("prediction_events", client)  # a replay: nothing new
    assert _count(engine) == 6 and _count(engine, "event_keys") == 3
    frame = pl.DataFrame(
        [_row(f"f{i}", now) for i in range(20)],
        schema=repo.columns("prediction_events"),
        orient="row",
    )
    w.write("prediction_events", frame, wait=False)
    w.write_rows("prediction_events", [_row("lone", now)], wait=False)
    w.flush()
    assert _count(engine) == 27


def test_a_late_row_for_a_sealed_minute_marks_it_dirty(engine: LocalEngine) -> None:
    engine.create_model("m", "classification")
    engine.writer.write_rows("prediction_events", [_row("a", T0)], dedup=False)
    engine.writer.flush()  # loaded, so there is a minute to seal
    engine.rollups.catch_up("m")
    engine.writer.write_rows(
        "prediction_events", [_row("b", T0 + timedelta(seconds=5))], dedup=False
    )
    with engine.store.read() as conn:
        assert conn.rows("SELECT minute FROM rollup_dirty") == [{"minute": T0}]
    assert _count(engine) == 2


def test_a_waiting_writer_leads_its_commit_except_on_the_main_thread(
    engine: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker threads append and sync their own group (no hand-off); the main thread, where
    Ctrl+C can strike halfway through a commit, leaves it to the journal thread."""
    engine.create_model("m", "classification")
    w = engine.writer
    appended_by: list[str] = []
    append = w.journal.append

    def recording(payloads: list[bytes]) -> list[int]:
        appended_by.append(threading.current_thread().name)
        return append(payloads)

    monkeypatch.setattr(w.journal, "append", recording)
    now = datetime.now(UTC).replace(tzinfo=None)
    assert threading.current_thread() is threading.main_thread()
    w.write_rows("prediction_events", [_row("main", now)], dedup=False)
    worker = threading.Thread(
        target=w.write_rows,
        args=("prediction_events", [_row("worker", now)]),
        kwargs={"dedup": False},
        name="a-request",
    )
    worker.start()
    worker.join()
    w.flush()  # from the main thread too

    async def served() -> None:  # as in `mlc serve`: SIGINT goes to the loop, never raises
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, lambda: None)
        try:
            w.write_rows("prediction_events", [_row("on-the-loop", now)], dedup=False)
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    asyncio.run(served())
    assert appended_by == ["mlc-event-journal", "a-request", "MainThread"]
    assert _count(engine) == 3


@pytest.mark.parametrize("leads", [True, False], ids=["leading writer", "waiting writer"])
def test_a_journal_that_cannot_write_fails_the_writer_not_the_rest(
    engine: LocalEngine, monkeypatch: pytest.MonkeyPatch, leads: bool
) -> None:
    """Whether the writer commits its own rows (a worker thread) or waits while the journal
    thread does (the main thread outside an event loop), the failure reaches it."""
    import errno

    from core.errors import StoreUnavailable
    from storage import journal as journal_module

    engine.create_model("m", "classification")
    now = datetime.now(UTC).replace(tzinfo=None)
    w = engine.writer
    real_write = journal_module.os.write

    def disk_full(fd: int, data: memoryview) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_module.os, "write", disk_full)
    failures: list[BaseException] = []

    def write() -> None:
        try:
            w.write_rows("prediction_events", [_row("lost", now)], dedup=False)
        except StoreUnavailable as e:
            failures.append(e)

    if leads:
        t = threading.Thread(target=write)
        t.start()
        t.join()
    else:
        write()
    assert [str(e) for e in failures] == [
        "cannot write the event journal: [Errno 28] No space left on device"
    ]
    monkeypatch.setattr(journal_module.os, "write", real_write)
    w.write_rows("prediction_events", [_row("kept", now)], dedup=False)
    assert _count(engine) == 1


def test_a_load_in_slices_stores_every_row_once_and_the_first_copy_wins(
    engine: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load turns rows into frames a slice at a time (letting request threads run between
    slices): rows and replays spread over many slices and frames still store each row once,
    with the first copy journaled, as in one piece."""
    from core.events import records

    monkeypatch.setattr(records, "SLICE_ROWS", 7)
    engine.create_model("m", "classification")
    now = datetime.now(UTC).replace(tzinfo=None)
    w = engine.writer
    w.write_rows("prediction_events", [_row(f"r{i}", now, "first") for i in range(30)], wait=False)
    frame = pl.DataFrame(
        [_row(f"f{i}", now) for i in range(10)], schema=repo.columns("prediction_events"),
        orient="row",
    )  # fmt: skip
    w.write("prediction_events", frame, wait=False)
    w.write_rows("prediction_events", [_row(f"r{i}", now, "again") for i in range(25)], wait=False)
    w.write_rows("prediction_events", [_row(f"s{i}", now) for i in range(12)], wait=False)
    w.flush()
    with engine.store.read() as conn:
        labels = conn.rows("SELECT label, count(*) AS n FROM prediction_events GROUP BY label")
    assert {r["label"]: r["n"] for r in labels} == {"first": 30, "1": 22}


def test_times_become_a_column_as_polars_would_make_it() -> None:
    """`rows_frame` converts each distinct time once; the column equals Polars' own."""
    a, b = datetime(2026, 3, 1, 12, 0, 0, 123456), datetime(1969, 7, 20, 20, 17, 40)
    times = [a, a, None, b, a, datetime(2262, 4, 11)]
    got = repo.rows_frame("actuals", [("m", str(i), t, "1", None) for i, t in enumerate(times)])
    assert got["ts"].to_list() == times
    assert got["ts"].equals(pl.Series("ts", times, dtype=pl.Datetime("us")))
    aware = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # not as stored: Polars converts it
    mixed = repo.rows_frame("actuals", [("m", "1", a, "1", None), ("m", "2", aware, "1", None)])
    assert mixed["ts"].equals(pl.Series("ts", [a, aware], dtype=pl.Datetime("us")))
    with pytest.raises(TypeError, match="Date"):  # refused as Polars refuses it
        repo.rows_frame(
            "actuals", [("m", "1", a, "1", None), ("m", "2", date(2026, 3, 1), "1", None)]
        )
