"""Rows of `ab_tests`."""

from __future__ import annotations

from typing import Any

from storage.conn import Conn

_COLUMNS = (
    "id", "model_id", "name", "environment", "versions", "split", "config", "status",
    "pre_test_traffic", "periods", "results", "winner", "owned_revision", "created_by", "reason", "created_at",
    "started_at", "ended_at", "updated_at",
)  # fmt: skip
_UPDATABLE = {
    "split",
    "status",
    "pre_test_traffic",
    "periods",
    "results",
    "winner",
    "owned_revision",
    "reason",
    "started_at",
    "ended_at",
    "updated_at",
}
ACTIVE = ("running", "paused")


def insert(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO ab_tests ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
        [row[c] for c in _COLUMNS],
    )


def update(conn: Conn, test_id: str, **values: Any) -> None:
    bad = set(values) - _UPDATABLE
    if bad:
        raise ValueError(f"not updatable: {bad}")
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE ab_tests SET {sets} WHERE id = ?", [*values.values(), test_id])


def get(conn: Conn, test_id: str) -> dict[str, Any] | None:
    return conn.row("SELECT * FROM ab_tests WHERE id = ?", [test_id])


def list_all(conn: Conn, model_id: str | None = None) -> list[dict[str, Any]]:
    if model_id is None:
        return conn.rows("SELECT * FROM ab_tests ORDER BY created_at, id")
    return conn.rows(
        "SELECT * FROM ab_tests WHERE model_id = ? ORDER BY created_at, id", [model_id]
    )


def active_for_model(conn: Conn, model_id: str, environment: str) -> dict[str, Any] | None:
    """The model's test that owns (running) or holds (paused) its traffic map, if any."""
    return conn.row(
        "SELECT * FROM ab_tests WHERE model_id = ? AND environment = ?"
        " AND status IN ('running', 'paused') ORDER BY created_at DESC LIMIT 1",
        [model_id, environment],
    )


def running(conn: Conn) -> list[dict[str, Any]]:
    return conn.rows("SELECT * FROM ab_tests WHERE status = 'running' ORDER BY created_at")
