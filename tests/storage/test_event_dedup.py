"""Prediction events are deduplicated on (model_id, request_id) through `event_keys`, in both
the row-by-row path (a few events) and the Arrow path (many), and across migrations."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from storage.paths import DB_FILE
from storage.repos import events as repo
from storage.store import Store

T0 = datetime(2026, 1, 1, 12, 0)


def _events(ids: list[str], *, label: str = "1") -> pl.DataFrame:
    n = len(ids)
    given = {
        "model_id": ["m"] * n,
        "request_id": ids,
        "ts": [T0 + timedelta(seconds=i) for i in range(n)],
        "label": [label] * n,
        "source": ["test"] * n,
    }
    return pl.DataFrame(
        {c: given.get(c, [None] * n) for c in repo.EVENT_COLUMNS}, schema=repo.EVENT_COLUMNS
    )


def _stored(store: Store) -> list[tuple[str, str]]:
    with store.read() as conn:
        return [
            (r["request_id"], r["label"])
            for r in conn.rows(
                "SELECT request_id, label FROM prediction_events ORDER BY ts, request_id"
            )
        ]


def _insert(store: Store, frame: pl.DataFrame, *, dedup: bool = True) -> None:
    with store.write() as conn:
        repo.insert_frame(conn, "prediction_events", frame, dedup=dedup)


@pytest.mark.parametrize("n", [3, 50], ids=["row by row", "arrow"])
def test_a_replayed_batch_adds_nothing_and_a_mixed_one_adds_only_the_new_ids(
    home: Path, n: int
) -> None:
    ids = [f"r{i}" for i in range(n)]
    with Store.open(home) as store:
        _insert(store, _events(ids))
        _insert(store, _events(ids, label="0"))  # replay: the first copy stays
        assert _stored(store) == [(i, "1") for i in ids]
        more = ids[: n // 2] + [f"new{i}" for i in range(n)]
        _insert(store, _events(more, label="2"))
        stored = _stored(store)
        assert len(stored) == 2 * n
        assert sorted(stored) == sorted(
            [(i, "1") for i in ids] + [(f"new{i}", "2") for i in range(n)]
        )


@pytest.mark.parametrize("n", [4, 40], ids=["row by row", "arrow"])
def test_an_id_repeated_inside_one_batch_is_stored_once_first_copy_wins(home: Path, n: int) -> None:
    ids = [f"r{i // 2}" for i in range(n)]  # each id twice in a row
    frame = _events(ids).with_columns(pl.Series("label", [str(i % 2) for i in range(n)]))
    with Store.open(home) as store:
        _insert(store, frame)
        assert sorted(_stored(store)) == sorted((f"r{i}", "0") for i in range(n // 2))


def test_server_generated_ids_skip_the_key_table(home: Path) -> None:
    with Store.open(home) as store:
        _insert(store, _events([f"s{i}" for i in range(20)]), dedup=False)
        with store.read() as conn:
            assert conn.scalar("SELECT count(*) FROM prediction_events") == 20
            assert conn.scalar("SELECT count(*) FROM event_keys") == 0


def test_migration_keeps_events_and_their_keys(home: Path) -> None:
    """A store written before event_keys existed: its events move over, in time order, and
    replaying them afterwards adds nothing."""
    from storage.migrations import runner

    newest_before = max(m.version for m in runner.available() if m.name != "event_keys")
    older = [m for m in runner.available() if m.version < 9]
    assert newest_before >= 7
    home.mkdir(parents=True)
    con = duckdb.connect(str(home / DB_FILE))
    con.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL)"
    )
    for m in older:
        for statement in runner._statements(m.sql):
            con.execute(statement)
        con.execute(
            "INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)", [m.version, m.name]
        )
    con.register(
        "_frame", _events(["b", "a"]).with_columns(ts=pl.Series([T0, T0 - timedelta(1)])).to_arrow()
    )
    cols = ", ".join(repo.EVENT_COLUMNS)
    con.execute(
        f"INSERT INTO prediction_events (event_key, {cols})"
        f" SELECT md5_number(model_id || chr(31) || request_id), {cols} FROM _frame"
    )
    con.close()
    with Store.open(home) as store:
        assert [r for r, _ in _stored(store)] == ["a", "b"]
        _insert(store, _events(["a", "b", "c"]))
        assert sorted(r for r, _ in _stored(store)) == ["a", "b", "c"]
