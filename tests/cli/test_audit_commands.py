"""`mlc audit verify` and `mlc audit head`: what a person and a script see when the newest
records are deleted, when a head taken earlier is checked, and when a head is malformed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from storage.paths import AUDIT_HEAD_FILE, DB_FILE
from tests.cli.conftest import Mlc

HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


@pytest.fixture
def five(mlc: Mlc) -> Mlc:
    for i in range(5):
        assert mlc("models", "create", f"m{i}", "--task", "classification").code == 0
    return mlc


def _delete_newest(home: Path, n: int) -> None:
    con = duckdb.connect(str(home / DB_FILE))
    con.execute("DELETE FROM audit_log WHERE seq > (SELECT max(seq) FROM audit_log) - ?", [n])
    con.close()


def test_head_prints_seq_colon_hash_and_json_names_its_parts(five: Mlc) -> None:
    res = five("audit", "head")
    assert res.code == 0
    m = HEAD.match(res.out.strip())
    assert m is not None and m.group(1) == "5"
    doc = five("--json", "audit", "head").json
    assert set(doc) == {"seq", "hash", "at"} and doc["seq"] == 5 and doc["hash"] == m.group(2)


def test_verify_says_intact_with_the_head(five: Mlc) -> None:
    head = five("audit", "head").out.strip()
    res = five("audit", "verify")
    assert res.code == 0
    assert res.out.strip() == f"audit chain intact: 5 records verified; head {head}"
    assert five("audit", "verify", "--head", head).code == 0


@pytest.mark.parametrize("deleted", [1, 3])
def test_verify_names_a_truncation(five: Mlc, home: Path, deleted: int) -> None:
    _delete_newest(home, deleted)
    kept = 5 - deleted
    res = five("audit", "verify")
    assert res.code == 1
    assert res.err.strip() == f"error: audit log truncated after {kept}: audit.head names record 5"
    doc = five("--json", "audit", "verify").json
    assert doc["ok"] is False and doc["truncated_after"] == kept
    assert doc["first_broken_seq"] == kept + 1
    assert doc["problem"] == f"truncated after {kept}: audit.head names record 5"


def test_verify_head_catches_a_truncation_the_host_no_longer_shows(five: Mlc, home: Path) -> None:
    anchor = five("audit", "head").out.strip()
    _delete_newest(home, 2)
    seq, digest = HEAD.match(five("audit", "head").out.strip()).groups()  # type: ignore[union-attr]
    (home / AUDIT_HEAD_FILE).write_text(
        json.dumps({"seq": int(seq), "hash": digest, "keyed_from": 1})
    )
    assert five("audit", "verify").code == 0
    res = five("audit", "verify", "--head", anchor)
    assert res.code == 1
    assert res.err.strip() == "error: audit log truncated after 3: the given head names record 5"


def test_verify_names_the_first_bad_record(five: Mlc, home: Path) -> None:
    con = duckdb.connect(str(home / DB_FILE))
    con.execute("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 2")
    con.close()
    res = five("audit", "verify")
    assert res.code == 1
    assert res.err.strip() == (
        "error: audit chain broken at record 2: record 2 was altered (its hash does not match)"
    )


@pytest.mark.parametrize("bad", ["5", "5:xyz", "head"])
def test_a_malformed_head_is_a_usage_error(five: Mlc, bad: str) -> None:
    res = five("audit", "verify", "--head", bad)
    assert res.code == 2 and "a head is SEQ:HASH" in res.err


def test_a_missing_head_file_is_unverified_not_a_broken_record(five: Mlc, home: Path) -> None:
    from app.tui.screens.audit import verified_text
    from core.engine import LocalEngine

    (home / AUDIT_HEAD_FILE).unlink()
    res = five("audit", "verify")
    problem = (
        "the audit head audit.head is missing: truncation cannot be ruled out"
        " (the next change writes it again)"
    )
    assert res.code == 1 and res.err.strip() == f"error: audit log unverified: {problem}"
    engine = LocalEngine.open(home)
    try:
        assert verified_text(engine.verify_audit()) == f"audit chain UNVERIFIED: {problem}"
    finally:
        engine.close()
    assert five("models", "create", "again", "--task", "classification").code == 0
    assert five("audit", "verify").code == 0
