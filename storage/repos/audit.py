"""Rows of `audit_log` and `audit_keys`. The chain itself is computed in `core.audit`; the key
and the head are files (`storage.audit_seal`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.conn import Conn

COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "target",
    "model_id",
    "before",
    "after",
    "reason",
    "prev_hash",
    "hash",
)


def last(conn: Conn) -> tuple[int, str] | None:
    got = conn.row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    return None if got is None else (int(got["seq"]), str(got["hash"]))


# `at` is an SQL keyword: the column is `recorded_at`, the rows we hand out say `at`.
_STORED = tuple("recorded_at" if c == "at" else c for c in COLUMNS)
_SELECT = "SELECT " + ", ".join("recorded_at AS at" if c == "at" else c for c in COLUMNS)


def insert(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO audit_log ({', '.join(_STORED)}) VALUES ({', '.join('?' * len(_STORED))})",
        [row[c] for c in COLUMNS],
    )


def query(
    conn: Conn,
    *,
    model_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    where: list[str] = []
    params: list[object] = []
    if model_id is not None:
        where.append("model_id = ?")
        params.append(model_id)
    if action is not None:
        where.append("(action = ? OR starts_with(action, ? || '.'))")
        params += [action, action]
    if since is not None:
        where.append("recorded_at >= ?")
        params.append(since)
    sql = f"{_SELECT} FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    rows = conn.rows(sql, params)
    rows.reverse()
    return rows


def all_in_order(conn: Conn) -> list[dict[str, Any]]:
    return conn.rows(f"{_SELECT} FROM audit_log ORDER BY seq")


def hash_at(conn: Conn, seq: int) -> str | None:
    got = conn.scalar("SELECT hash FROM audit_log WHERE seq = ?", [seq])
    return None if got is None else str(got)


def newest(conn: Conn) -> dict[str, Any] | None:
    return conn.row(f"{_SELECT} FROM audit_log ORDER BY seq DESC LIMIT 1")


# `audit_keys`: which key sealed which records (the key itself is a file, never a row).


def key_epochs(conn: Conn) -> list[dict[str, Any]]:
    return conn.rows(
        "SELECT keyed_from, key_id, created_at, reason FROM audit_keys ORDER BY keyed_from"
    )


def add_key_epoch(
    conn: Conn, keyed_from: int, key_id: str, created_at: datetime, reason: str
) -> None:
    conn.execute(
        "INSERT INTO audit_keys (keyed_from, key_id, created_at, reason) VALUES (?, ?, ?, ?)",
        [keyed_from, key_id, created_at, reason],
    )


def rekey_epoch(conn: Conn, keyed_from: int, key_id: str, created_at: datetime) -> None:
    conn.execute(
        "UPDATE audit_keys SET key_id = ?, created_at = ? WHERE keyed_from = ?",
        [key_id, created_at, keyed_from],
    )
