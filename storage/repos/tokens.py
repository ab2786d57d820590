"""Rows of `api_tokens`. Hashing and comparing secrets happens in `core.auth`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.conn import Conn

_COLUMNS = ("id", "name", "role", "secret_sha256", "created_at", "created_by")


def insert(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO api_tokens ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
        [row[c] for c in _COLUMNS],
    )


def list_all(conn: Conn) -> list[dict[str, Any]]:
    return conn.rows("SELECT * FROM api_tokens ORDER BY created_at, id")


def find(conn: Conn, id_or_name: str) -> dict[str, Any] | None:
    return conn.row("SELECT * FROM api_tokens WHERE id = ? OR name = ?", [id_or_name, id_or_name])


def revoke(conn: Conn, token_id: str, at: datetime, by: str) -> None:
    conn.execute(
        "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ?", [at, by, token_id]
    )


def touch(conn: Conn, token_id: str, at: datetime) -> None:
    conn.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [at, token_id])
