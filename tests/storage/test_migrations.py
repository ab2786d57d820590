from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from storage.errors import StoreUnavailable
from storage.migrations.runner import available
from storage.paths import DB_FILE
from storage.store import Store


def _versions(home: Path) -> list[tuple[int, str]]:
    con = duckdb.connect(str(home / DB_FILE), read_only=True)
    try:
        return con.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
    finally:
        con.close()


def test_migrates_an_empty_store_to_the_newest_version(home: Path) -> None:
    Store.open(home).close()
    expected = [(m.version, m.name) for m in available()]
    assert expected, "there must be at least one migration"
    assert _versions(home) == expected
    con = duckdb.connect(str(home / DB_FILE), read_only=True)
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    con.close()
    assert {"models", "model_versions", "version_tags", "aliases", "audit_log"} <= tables


def test_reopening_applies_nothing_twice_and_keeps_data(home: Path) -> None:
    with Store.open(home) as store, store.write() as conn:
        conn.execute(
            "INSERT INTO models VALUES ('m', 'regression', NULL, '[]', '', now()::TIMESTAMP, 't')"
        )
    before = _versions(home)
    with Store.open(home) as store, store.read() as conn:
        assert conn.scalar("SELECT count(*) FROM models") == 1
    assert _versions(home) == before


def test_a_store_from_a_newer_mlc_is_refused(home: Path) -> None:
    Store.open(home).close()
    con = duckdb.connect(str(home / DB_FILE))
    con.execute("INSERT INTO schema_version VALUES (9999, 'future', now()::TIMESTAMP)")
    con.close()
    with pytest.raises(StoreUnavailable, match="upgrade mlc"):
        Store.open(home)


def test_a_failed_write_rolls_back_everything(home: Path) -> None:
    with Store.open(home) as store:
        with pytest.raises(RuntimeError), store.write() as conn:
            conn.execute(
                "INSERT INTO models VALUES ('m', 'regression', NULL, '[]', '', now()::TIMESTAMP, 't')"
            )
            raise RuntimeError("boom")
        with store.read() as conn:
            assert conn.scalar("SELECT count(*) FROM models") == 0
