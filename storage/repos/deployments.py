"""Rows of `deployment_revisions` and `unhealthy_revisions`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.conn import Conn

_SELECT = (
    "SELECT r.*, u.revision IS NULL AS healthy FROM deployment_revisions r"
    " LEFT JOIN unhealthy_revisions u USING (model_id, environment, revision)"
)


def current(conn: Conn, model_id: str, environment: str) -> dict[str, Any] | None:
    return conn.row(
        f"{_SELECT} WHERE r.model_id = ? AND r.environment = ? ORDER BY r.revision DESC LIMIT 1",
        [model_id, environment],
    )


def get(conn: Conn, model_id: str, environment: str, revision: int) -> dict[str, Any] | None:
    return conn.row(
        f"{_SELECT} WHERE r.model_id = ? AND r.environment = ? AND r.revision = ?",
        [model_id, environment, revision],
    )


def history(conn: Conn, model_id: str, environment: str | None = None) -> list[dict[str, Any]]:
    if environment is None:
        return conn.rows(
            f"{_SELECT} WHERE r.model_id = ? ORDER BY r.environment, r.revision", [model_id]
        )
    return conn.rows(
        f"{_SELECT} WHERE r.model_id = ? AND r.environment = ? ORDER BY r.revision",
        [model_id, environment],
    )


def insert(conn: Conn, row: dict[str, Any]) -> None:
    cols = (
        "model_id",
        "environment",
        "revision",
        "traffic",
        "kind",
        "actor",
        "reason",
        "created_at",
    )
    conn.execute(
        f"INSERT INTO deployment_revisions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )


def mark_unhealthy(
    conn: Conn, model_id: str, environment: str, revision: int, at: datetime, reason: str
) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO unhealthy_revisions VALUES (?, ?, ?, ?, ?)",
        [model_id, environment, revision, at, reason],
    )


def all_current(conn: Conn) -> list[dict[str, Any]]:
    """The newest revision of every (model, environment)."""
    return conn.rows(
        f"{_SELECT} QUALIFY row_number() OVER"
        " (PARTITION BY r.model_id, r.environment ORDER BY r.revision DESC) = 1"
    )
