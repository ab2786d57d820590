"""The keyed audit chain and its head: truncation and re-chaining are detected with their exact
message, a head taken off the host catches what a head on the host cannot, a lost key and a
lost head are named, and a store from before keys upgrades with its old records still checked.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from core import audit
from core.domain import AuditHead
from core.engine import LocalEngine
from core.errors import InvalidInput, StoreUnavailable
from storage.paths import AUDIT_HEAD_FILE, AUDIT_KEY_FILE, DB_FILE
from tests.core.audit_tampering import (
    delete_newest,
    keyed_with,
    legacy_rows,
    rechain,
    unkeyed,
)

N = 10


def _records(engine: LocalEngine, n: int, prefix: str = "m") -> None:
    for i in range(n):
        engine.create_model(f"{prefix}{i}", "classification")


@pytest.fixture
def ten(engine: LocalEngine) -> LocalEngine:
    _records(engine, N)
    assert engine.verify_audit().ok
    return engine


def _head_file(home: Path) -> dict[str, object]:
    return json.loads((home / AUDIT_HEAD_FILE).read_text())


def test_an_intact_store_reports_its_head_and_where_the_keyed_chain_begins(
    ten: LocalEngine, home: Path
) -> None:
    result = ten.verify_audit()
    head = ten.audit_head()
    assert result.ok and result.checked == N and result.keyed_from == 1
    assert result.head is not None and (result.head.seq, result.head.hash) == (head.seq, head.hash)
    assert _head_file(home) == {"seq": N, "hash": head.hash, "keyed_from": 1}
    assert ten.verify_audit(head=head).ok


@pytest.mark.parametrize("deleted", [1, 5])
def test_deleting_the_newest_rows_is_truncation(ten: LocalEngine, deleted: int) -> None:
    delete_newest(ten.store, deleted)
    result = ten.verify_audit()
    kept = N - deleted
    assert not result.ok
    assert result.problem == f"truncated after {kept}: audit.head names record {N}"
    assert result.truncated_after == kept and result.first_broken_seq == kept + 1
    assert result.checked == kept


def test_deleting_every_row_is_truncation_after_0(ten: LocalEngine) -> None:
    delete_newest(ten.store, N)
    result = ten.verify_audit()
    assert result.problem == f"truncated after 0: audit.head names record {N}"
    assert result.truncated_after == 0 and result.head is None


def test_rechaining_without_the_key_is_an_altered_record(ten: LocalEngine) -> None:
    rechain(ten.store, 4, keyed_with(os.urandom(32)))
    result = ten.verify_audit()
    assert not result.ok and result.first_broken_seq == 4 and result.checked == 3
    assert result.problem == "record 4 was altered (its hash does not match)"


def test_rechaining_with_the_unkeyed_hash_is_named(ten: LocalEngine) -> None:
    rechain(ten.store, 4, unkeyed)
    result = ten.verify_audit()
    assert not result.ok and result.first_broken_seq == 4
    assert result.problem == (
        "record 4 carries an unkeyed hash: the chain was recomputed without the audit key"
    )


def test_rechaining_the_newest_record_unkeyed_is_named_too(ten: LocalEngine) -> None:
    rechain(ten.store, N, unkeyed)
    assert ten.verify_audit().first_broken_seq == N


def test_claiming_the_keyed_records_are_old_unkeyed_ones_is_caught(ten: LocalEngine) -> None:
    """Re-chain everything unkeyed and move the keyed chain's start past the end in the
    database: `audit.head` still says where it begins."""
    rechain(ten.store, 1, unkeyed)
    with ten.store.write() as conn:
        conn.execute("UPDATE audit_keys SET keyed_from = ?", [N + 1])
    result = ten.verify_audit()
    assert not result.ok and result.first_broken_seq == 1
    assert result.problem == (
        f"the keyed chain begins at record 1 by audit.head but at record {N + 1} by the"
        " database (audit_keys was altered)"
    )


def test_a_head_taken_before_a_truncation_detects_it_after_the_head_file_is_rewritten(
    ten: LocalEngine, home: Path
) -> None:
    """Someone who can write the store's files too: only the head kept off the host tells."""
    anchor = ten.audit_head()
    delete_newest(ten.store, 5)
    kept = ten.audit_head()
    (home / AUDIT_HEAD_FILE).write_text(
        json.dumps({"seq": kept.seq, "hash": kept.hash, "keyed_from": 1})
    )
    assert ten.verify_audit().ok  # the host alone cannot tell any more
    result = ten.verify_audit(head=anchor)
    assert not result.ok and result.truncated_after == N - 5
    assert result.problem == f"truncated after {N - 5}: the given head names record {N}"


def test_a_head_taken_before_a_rewrite_names_the_record(ten: LocalEngine, home: Path) -> None:
    anchor = ten.audit_head()
    key = (home / AUDIT_KEY_FILE).read_bytes()
    rechain(ten.store, 3, keyed_with(key))  # with the key: only the anchor can tell
    new = ten.audit_head()
    (home / AUDIT_HEAD_FILE).write_text(
        json.dumps({"seq": new.seq, "hash": new.hash, "keyed_from": 1})
    )
    assert ten.verify_audit().ok
    result = ten.verify_audit(head=anchor)
    assert not result.ok and result.first_broken_seq == N
    assert result.problem == (
        f"record {N} is not the one the given head names: the log was rewritten at or before it"
    )


def test_the_head_file_never_forgets_a_truncation(ten: LocalEngine, home: Path) -> None:
    before = _head_file(home)
    delete_newest(ten.store, 5)
    _records(ten, 1, prefix="after")
    assert _head_file(home) == before
    assert ten.verify_audit().problem == f"truncated after {N - 4}: audit.head names record {N}"
    _records(ten, 5, prefix="later")  # past the head's sequence: now a rewrite
    assert _head_file(home) == before
    result = ten.verify_audit()
    assert not result.ok and result.first_broken_seq == N
    assert result.problem == (
        f"record {N} is not the one audit.head names: the log was rewritten at or before it"
    )


def test_a_head_file_behind_the_table_is_a_crash_not_tampering(
    ten: LocalEngine, home: Path
) -> None:
    """A crash between a commit and the head write leaves the file one transaction behind."""
    with ten.store.read() as conn:
        prev = conn.row("SELECT seq, hash FROM audit_log WHERE seq = ?", [N - 1])
    assert prev is not None
    (home / AUDIT_HEAD_FILE).write_text(
        json.dumps({"seq": N - 1, "hash": prev["hash"], "keyed_from": 1})
    )
    assert ten.verify_audit().ok
    ten.close()
    reopened = LocalEngine.open(home)
    try:
        assert reopened.verify_audit().ok
        _records(reopened, 1, prefix="next")
        assert _head_file(home)["seq"] == N + 1
        delete_newest(reopened.store, 1)
        assert (
            reopened.verify_audit().problem
            == f"truncated after {N}: audit.head names record {N + 1}"
        )
    finally:
        reopened.close()


def test_a_missing_head_file_is_named_and_written_again_by_the_next_change(
    ten: LocalEngine, home: Path
) -> None:
    (home / AUDIT_HEAD_FILE).unlink()
    result = ten.verify_audit()
    assert not result.ok and result.first_broken_seq is None
    assert result.problem == (
        "the audit head audit.head is missing: truncation cannot be ruled out"
        " (the next change writes it again)"
    )
    _records(ten, 1, prefix="x")
    assert ten.verify_audit().ok and _head_file(home)["seq"] == N + 1


def test_the_head_follows_concurrent_appends(engine: LocalEngine, home: Path) -> None:
    """Commit hooks run outside the write lock, in any order: the head never moves back."""

    def work(t: int) -> None:
        for i in range(15):
            with engine.store.write() as conn:
                audit.append(conn, actor="test", action="test.append", target=f"{t}-{i}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    head = engine.audit_head()
    assert head.seq == 90 and _head_file(home) == {"seq": 90, "hash": head.hash, "keyed_from": 1}
    assert engine.verify_audit().ok


def test_a_key_deleted_under_a_running_owner_fails_verify(ten: LocalEngine, home: Path) -> None:
    (home / AUDIT_KEY_FILE).unlink()
    result = ten.verify_audit()
    assert not result.ok and result.first_broken_seq == 1 and result.checked == 0
    assert result.problem == (
        "the audit key is missing (audit.key): records from 1 on cannot be checked"
    )


def test_a_key_lost_while_closed_is_replaced_and_its_records_named_for_good(
    ten: LocalEngine, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ten.close()
    (home / AUDIT_KEY_FILE).unlink()
    with caplog.at_level(logging.WARNING):
        reopened = LocalEngine.open(home)
    try:
        assert f"records 1–{N}, sealed with the key it had, can no longer be checked" in caplog.text
        assert (home / AUDIT_KEY_FILE).stat().st_size == 32
        _records(reopened, 2, prefix="new")  # changes go on, sealed with the new key
        result = reopened.verify_audit()
        assert not result.ok and result.first_broken_seq == 1
        assert result.problem == (
            f"the audit key is missing for records 1–{N} (audit.key was missing when the"
            f" store was opened); a new key seals records from {N + 1} on"
        )
    finally:
        reopened.close()


def test_a_key_lost_before_anything_was_sealed_loses_nothing(
    engine: LocalEngine, home: Path
) -> None:
    engine.close()
    (home / AUDIT_KEY_FILE).unlink()
    reopened = LocalEngine.open(home)
    try:
        _records(reopened, 2)
        assert reopened.verify_audit().ok
    finally:
        reopened.close()


def test_a_damaged_key_refuses_to_open_naming_it(engine: LocalEngine, home: Path) -> None:
    engine.close()
    (home / AUDIT_KEY_FILE).write_bytes(b"short")
    with pytest.raises(StoreUnavailable, match=r"audit key .*audit\.key is damaged \(5 bytes"):
        LocalEngine.open(home)


def _legacy_store(home: Path, n: int) -> None:
    """A store as the previous schema left it: no `audit_keys`, no key or head file, records
    chained with unkeyed sha256."""
    LocalEngine.open(home).close()
    con = duckdb.connect(str(home / DB_FILE))
    con.execute("DROP TABLE audit_keys")
    con.execute("DELETE FROM schema_version WHERE version = 14")
    con.execute("DELETE FROM audit_log")
    for row in legacy_rows(n, start=datetime(2026, 1, 2, 3, 4, 0, 123456)):
        con.execute(
            "INSERT INTO audit_log (seq, recorded_at, actor, action, target, model_id, before,"
            " after, reason, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row["seq"], row["at"], row["actor"], row["action"], row["target"], row["model_id"],
             row["before"], row["after"], row["reason"], row["prev_hash"], row["hash"]],
        )  # fmt: skip
    con.close()
    (home / AUDIT_KEY_FILE).unlink()
    (home / AUDIT_HEAD_FILE).unlink()


def test_a_store_from_before_keys_upgrades_and_still_verifies(home: Path) -> None:
    _legacy_store(home, 4)
    engine = LocalEngine.open(home)
    try:
        result = engine.verify_audit()
        assert result.ok and result.checked == 4 and result.keyed_from == 5
        assert _head_file(home)["keyed_from"] == 5
        with engine.store.read() as conn:
            (epoch,) = conn.rows("SELECT keyed_from, reason FROM audit_keys")
        assert epoch == {
            "keyed_from": 5,
            "reason": "records 1–4 were written by an mlc without an audit key: they keep their"
            " unkeyed chain",
        }
        _records(engine, 2)
        result = engine.verify_audit()
        assert result.ok and result.checked == 6 and result.keyed_from == 5
        with engine.store.read() as conn:
            fifth = conn.row("SELECT prev_hash, hash FROM audit_log WHERE seq = 5")
            fourth = conn.scalar("SELECT hash FROM audit_log WHERE seq = 4")
        assert fifth is not None and fifth["prev_hash"] == fourth
    finally:
        engine.close()


def test_rechaining_the_old_records_is_caught_by_the_first_keyed_one(home: Path) -> None:
    _legacy_store(home, 4)
    engine = LocalEngine.open(home)
    try:
        _records(engine, 2)
        rechain(engine.store, 2, unkeyed, through=4)
        with engine.store.write() as conn:  # and hide it from the keyed record's link
            conn.execute("UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log"
                         " WHERE seq = 4) WHERE seq = 5")  # fmt: skip
        result = engine.verify_audit()
        assert not result.ok and result.first_broken_seq == 5
        assert result.problem == "record 5 was altered (its hash does not match)"
    finally:
        engine.close()


def test_rechaining_old_records_before_any_keyed_one_is_caught_by_the_head(home: Path) -> None:
    _legacy_store(home, 4)
    engine = LocalEngine.open(home)
    try:
        rechain(engine.store, 2, unkeyed)
        result = engine.verify_audit()
        assert not result.ok and result.first_broken_seq == 4
        assert result.problem == (
            "record 4 is not the one audit.head names: the log was rewritten at or before it"
        )
    finally:
        engine.close()


def test_an_old_store_already_broken_stays_broken_where_it_was(home: Path) -> None:
    _legacy_store(home, 4)
    con = duckdb.connect(str(home / DB_FILE))
    con.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    con.close()
    engine = LocalEngine.open(home)
    try:
        _records(engine, 1)
        result = engine.verify_audit()
        assert not result.ok and result.first_broken_seq == 2
        assert result.problem == "record 2 was altered (its hash does not match)"
    finally:
        engine.close()


@pytest.mark.parametrize("text", ["", "12", "12:abc", "x:" + "0" * 64, "-1:" + "0" * 64])
def test_a_malformed_head_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput, match="a head is SEQ:HASH"):
        audit.parse_head(text)


def test_a_head_reads_back_from_its_text(ten: LocalEngine) -> None:
    head = ten.audit_head()
    assert audit.parse_head(str(head)) == AuditHead(head.seq, head.hash)
    assert head.at is not None and head.at <= datetime.now(UTC)
