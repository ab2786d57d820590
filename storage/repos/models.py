"""Rows of `models`."""

from __future__ import annotations

from typing import Any

from storage.conn import Conn

_COLUMNS = ("id", "task", "target", "features", "description", "created_at", "created_by")


def insert(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO models ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
        [row[c] for c in _COLUMNS],
    )


def get(conn: Conn, model_id: str) -> dict[str, Any] | None:
    return conn.row("SELECT * FROM models WHERE id = ?", [model_id])


def list_all(conn: Conn) -> list[dict[str, Any]]:
    return conn.rows(
        "SELECT m.*, count(v.id) AS version_count, max(v.number) AS latest_version"
        " FROM models m LEFT JOIN model_versions v ON v.model_id = m.id"
        " GROUP BY ALL ORDER BY m.id"
    )
