"""The event journal: acknowledged rows survive a crash before loading, are loaded exactly
once, a torn tail is cut off, and a loaded journal is deleted."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import textwrap
from contextlib import closing
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from core.engine import LocalEngine
from storage.journal import Journal
from storage.paths import JOURNAL_DIR
from storage.repos import events as repo

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 12, 0, 0, 123456)


def _row(rid: str, label: str = "1") -> tuple:
    return (
        "m",
        rid,
        T0,
        1,
        "production",
        None,
        None,
        '{"x": 1.5}',
        label,
        None,
        0.4,
        2.0,
        None,
        "t",
    )


def _events(home: Path) -> list[tuple]:
    with closing(LocalEngine.open(home)) as engine, engine.store.read() as conn:
        return [
            tuple(r.values())
            for r in conn.rows(
                "SELECT request_id, ts, features FROM prediction_events ORDER BY request_id"
            )
        ]


def _crash_after_writing(home: Path, code: str) -> None:
    """Run `code` with `engine` and `writer` in a process that dies without closing."""
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from datetime import datetime
        import polars as pl
        from core.engine import LocalEngine
        from core.events import writer as ingest
        from storage.repos import events as repo
        ingest.LINGER_S = 3600  # the loader never gets to it: acknowledged, not loaded
        T0 = datetime(2026, 3, 1, 12, 0, 0, 123456)
        def row(rid):
            return ("m", rid, T0, 1, "production", None, None, '{{"x": 1.5}}', "1", None, 0.4,
                    2.0, None, "t")
        engine = LocalEngine.open(__import__("pathlib").Path({str(home)!r}))
        writer = engine.writer
        {code}
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, timeout=120)


@pytest.fixture
def model_home(home: Path) -> Path:
    with closing(LocalEngine.open(home)) as engine:
        engine.create_model("m", "classification")
    return home


def test_acknowledged_rows_survive_a_crash_before_loading(model_home: Path) -> None:
    _crash_after_writing(
        model_home,
        """
        writer.write_rows("prediction_events", [row("a"), row("b")])
        frame = pl.DataFrame([row(f"f{i}") for i in range(50)],
                             schema=repo.columns("prediction_events"), orient="row")
        writer.write("prediction_events", frame)
        assert writer.loads == 0
        """,
    )
    assert list((model_home / JOURNAL_DIR).glob("*.log"))
    stored = _events(model_home)
    assert len(stored) == 52
    assert ("a", T0, '{"x": 1.5}') in stored  # timestamps and strings as written
    assert not list((model_home / JOURNAL_DIR).glob("*.log"))  # loaded, then deleted


def test_non_finite_values_in_acknowledged_rows_survive_a_crash(model_home: Path) -> None:
    """JSON has no NaN or infinity: rows holding one are journaled another way, not as null."""
    _crash_after_writing(
        model_home,
        """
        nan = ("m", "nan", T0, 1, "production", None, None, None, None, float("nan"), 0.4,
               2.0, None, "t")
        inf = ("m", "inf", T0, 1, "production", None, None, None, None, 1.0, 0.4,
               float("inf"), None, "t")
        writer.write_rows("prediction_events", [nan, inf, row("plain")])
        """,
    )
    with closing(LocalEngine.open(model_home)) as engine, engine.store.read() as conn:
        got = {
            r["request_id"]: (r["value"], r["latency_ms"])
            for r in conn.rows("SELECT request_id, value, latency_ms FROM prediction_events")
        }
    assert math.isnan(got["nan"][0]) and got["inf"] == (1.0, math.inf)
    assert got["plain"] == (None, 2.0)


def test_a_journal_replayed_twice_loads_once(model_home: Path, tmp_path: Path) -> None:
    """A crash after the load committed but before its segment was deleted."""
    _crash_after_writing(
        model_home, 'writer.write_rows("prediction_events", [row("a")], dedup=False)'
    )
    kept = tmp_path / "kept"
    shutil.copytree(model_home / JOURNAL_DIR, kept)
    assert len(_events(model_home)) == 1
    shutil.rmtree(model_home / JOURNAL_DIR)
    shutil.copytree(kept, model_home / JOURNAL_DIR)
    assert len(_events(model_home)) == 1  # the committed offset says it is loaded


def test_a_torn_tail_is_cut_off_and_the_rest_loaded(model_home: Path) -> None:
    _crash_after_writing(
        model_home, 'writer.write_rows("prediction_events", [row("a")], dedup=False)'
    )
    [segment] = (model_home / JOURNAL_DIR).glob("*.log")
    intact = segment.stat().st_size
    with segment.open("ab") as fh:
        fh.write(b"MLCJ\xff\x00\x00\x00garbage")  # a record the crash interrupted
    journal = Journal(model_home / JOURNAL_DIR)
    assert len(list(journal.unloaded(0))) == 1
    journal.close()
    assert segment.stat().st_size == intact  # cut off, so a later append follows "a"
    assert [r[0] for r in _events(model_home)] == ["a"]


def test_replayed_client_ids_are_stored_once(model_home: Path) -> None:
    _crash_after_writing(
        model_home,
        """
        writer.write_rows("prediction_events", [row("a"), row("b")])
        writer.write_rows("prediction_events", [row("a"), row("b")])  # a client's retry
        """,
    )
    assert [r[0] for r in _events(model_home)] == ["a", "b"]


def test_reads_see_what_was_acknowledged(engine: LocalEngine) -> None:
    engine.create_model("m", "classification")
    frame = pl.DataFrame(
        [_row(f"f{i}") for i in range(20)], schema=repo.columns("prediction_events"), orient="row"
    )
    engine.writer.write("prediction_events", frame, wait=False)
    with engine.store.read() as conn:
        assert conn.scalar("SELECT count(*) FROM prediction_events") == 20


def test_offsets_keep_growing_across_segments(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j")
    list(journal.unloaded(0))
    first = journal.append([b"one", b"two"])[-1]
    journal.close()
    again = Journal(tmp_path / "j")
    assert [p for _, p in again.unloaded(0)] == [b"one", b"two"]
    assert list(again.unloaded(first)) == []
    second = again.append([b"three"])[-1]
    assert second > first
    again.close()
    again.drop_loaded(second)
    assert not list((tmp_path / "j").glob("*.log"))


def test_a_failed_append_is_cut_back_and_later_records_survive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from storage import journal as journal_module
    from storage.errors import StoreUnavailable

    journal = Journal(tmp_path / "j")
    list(journal.unloaded(0))
    journal.append([b"a" * 100])
    real_write = journal_module.os.write

    def disk_full(fd: int, data: memoryview) -> int:
        real_write(fd, bytes(data[:10]))  # part of the record reached the file
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_module.os, "write", disk_full)
    with pytest.raises(StoreUnavailable, match="cannot write the event journal"):
        journal.append([b"b" * 100])
    monkeypatch.setattr(journal_module.os, "write", real_write)
    journal.append([b"c" * 100, b"d" * 100])
    journal.close()
    again = Journal(tmp_path / "j")
    assert [p[:1] for _, p in again.unloaded(0)] == [b"a", b"c", b"d"]


def test_a_record_that_cannot_load_is_set_aside_and_the_rest_loads(model_home: Path) -> None:
    _crash_after_writing(
        model_home,
        """
        writer.write_rows("prediction_events", [row("a")], dedup=False)
        writer.journal.append([bytes((99, 0, 0, 1)) + b"[]"])  # a format this version lacks
        writer.write_rows("prediction_events", [row("b")], dedup=False)
        """,
    )
    assert [r[0] for r in _events(model_home)] == ["a", "b"]
    [kept] = (model_home / JOURNAL_DIR / "rejected").glob("*.rec")
    assert kept.read_bytes().startswith(bytes((99,)))
    assert [r[0] for r in _events(model_home)] == ["a", "b"]  # and it stays set aside


def test_rows_missing_a_required_value_are_refused_before_acknowledging(
    engine: LocalEngine,
) -> None:
    from core.errors import InvalidInput

    engine.create_model("m", "classification")
    bad = ("m", "x", None, *_row("x")[3:])
    with pytest.raises(InvalidInput, match="every row needs a ts"):
        engine.writer.write_rows("prediction_events", [bad])
    frame = pl.DataFrame([_row("y"), bad], schema=repo.columns("prediction_events"), orient="row")
    with pytest.raises(InvalidInput, match="every row needs a ts"):
        engine.writer.write("prediction_events", frame)
    assert engine.writer.loads == 0 and not engine.writer._pending


def test_a_null_ts_in_a_posted_batch_means_now_on_both_paths(engine: LocalEngine) -> None:
    engine.create_model("m", "classification")
    body = b'[{"request_id": "a", "ts": "2026-03-01T12:00:00Z"}, {"request_id": "b", "ts": null}]'
    assert engine.log_events("m", body).new == 2
    with engine.store.read() as conn:
        assert conn.scalar("SELECT count(*) FROM prediction_events WHERE ts IS NOT NULL") == 2


def test_writes_after_close_are_refused_not_hung(home: Path) -> None:
    from core.errors import StoreUnavailable

    engine = LocalEngine.open(home)
    engine.create_model("m", "classification")
    writer = engine.writer
    engine.close()
    with pytest.raises(StoreUnavailable, match="closing"):
        writer.write_rows("prediction_events", [_row("late")], wait=True)
    writer.flush()  # returns at once


def test_only_reads_of_event_tables_wait_for_the_loader(engine: LocalEngine) -> None:
    engine.create_model("m", "classification")
    engine.writer.write_rows("prediction_events", [_row("a")], dedup=False)
    loads = engine.writer.loads
    engine.get_model("m")  # the registry: no reason to wait
    assert engine.writer.loads == loads
    with engine.store.read() as conn:
        assert conn.scalar("SELECT count(*) FROM prediction_events") == 1
    assert engine.writer.loads == loads + 1


def test_a_load_that_fails_briefly_is_retried_not_set_aside(engine: LocalEngine) -> None:
    engine.create_model("m", "classification")
    writer = engine.writer
    real, failures = writer._load, [2]

    def flaky(items: list) -> None:
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("out of memory (for a moment)")
        real(items)

    writer._load = flaky  # type: ignore[method-assign]
    writer.write_rows("prediction_events", [_row("a")], dedup=False)
    with engine.store.read() as conn:
        assert conn.scalar("SELECT count(*) FROM prediction_events") == 1
    assert not (engine.store.home / JOURNAL_DIR / "rejected").exists()


def test_damage_in_an_older_segment_is_set_aside_not_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import journal as journal_module

    monkeypatch.setattr(journal_module, "SEGMENT_BYTES", 1)  # a segment per append
    journal = Journal(tmp_path / "j")
    list(journal.unloaded(0))
    journal.append([b"one", b"two"])
    journal.append([b"three"])
    journal.close()
    older = min((tmp_path / "j").glob("*.log"))
    data = bytearray(older.read_bytes())
    data[-1] ^= 0xFF  # flip a byte of "two"
    older.write_bytes(bytes(data))
    again = Journal(tmp_path / "j")
    assert [p for _, p in again.unloaded(0)] == [b"one", b"three"]
    [kept] = (tmp_path / "j" / "rejected").glob("*.damaged")
    assert kept.read_bytes().endswith(bytes([ord("o") ^ 0xFF]))
    assert older.stat().st_size == len(data)  # not truncated
