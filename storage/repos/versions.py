"""Rows of `model_versions`, `version_tags` and `aliases`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.conn import Conn

_COLUMNS = (
    "id",
    "model_id",
    "number",
    "algorithm",
    "parameters",
    "performance_metrics",
    "training_data_hash",
    "training_job_id",
    "parent_version",
    "artifact_sha256",
    "artifact_size",
    "signature",
    "status",
    "status_reason",
    "status_changed_at",
    "description",
    "created_at",
    "created_by",
)


def next_number(conn: Conn, model_id: str) -> int:
    """The next version number; call inside a write transaction (writes are serialised)."""
    return int(
        conn.scalar(
            "SELECT coalesce(max(number), 0) + 1 FROM model_versions WHERE model_id = ?",
            [model_id],
        )
    )


def insert(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO model_versions ({', '.join(_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(_COLUMNS))})",
        [row[c] for c in _COLUMNS],
    )


def get(conn: Conn, model_id: str, number: int) -> dict[str, Any] | None:
    return conn.row(
        "SELECT * FROM model_versions WHERE model_id = ? AND number = ?", [model_id, number]
    )


def list_for_model(conn: Conn, model_id: str) -> list[dict[str, Any]]:
    return conn.rows("SELECT * FROM model_versions WHERE model_id = ? ORDER BY number", [model_id])


def set_status(
    conn: Conn, model_id: str, number: int, status: str, reason: str, at: datetime
) -> None:
    conn.execute(
        "UPDATE model_versions SET status = ?, status_reason = ?, status_changed_at = ?"
        " WHERE model_id = ? AND number = ?",
        [status, reason, at, model_id, number],
    )


def tags(conn: Conn, model_id: str, number: int | None = None) -> list[dict[str, Any]]:
    if number is None:
        return conn.rows(
            "SELECT * FROM version_tags WHERE model_id = ? ORDER BY number, key", [model_id]
        )
    return conn.rows(
        "SELECT * FROM version_tags WHERE model_id = ? AND number = ? ORDER BY key",
        [model_id, number],
    )


def set_tag(conn: Conn, model_id: str, number: int, key: str, value: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO version_tags (model_id, number, key, value) VALUES (?, ?, ?, ?)",
        [model_id, number, key, value],
    )


def aliases(conn: Conn, model_id: str) -> list[dict[str, Any]]:
    return conn.rows("SELECT * FROM aliases WHERE model_id = ? ORDER BY alias", [model_id])


def alias_target(conn: Conn, model_id: str, alias: str) -> int | None:
    got = conn.scalar(
        "SELECT number FROM aliases WHERE model_id = ? AND alias = ?", [model_id, alias]
    )
    return None if got is None else int(got)


def set_alias(conn: Conn, model_id: str, alias: str, number: int, at: datetime, actor: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO aliases (model_id, alias, number, updated_at, updated_by)"
        " VALUES (?, ?, ?, ?, ?)",
        [model_id, alias, number, at, actor],
    )
