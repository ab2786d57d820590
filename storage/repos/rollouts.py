"""Rows of `rollouts` and `system_events`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.conn import Conn

_COLUMNS = (
    "id", "model_id", "environment", "canary_version", "stable_traffic", "steps", "step_index",
    "interval_s", "guardrails", "failure_limit", "min_samples", "status", "failures", "analyses",
    "actor", "reason", "started_at", "step_started_at", "updated_at",
)  # fmt: skip
_UPDATABLE = {
    "step_index",
    "status",
    "failures",
    "analyses",
    "reason",
    "step_started_at",
    "updated_at",
}


def insert(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO rollouts ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
        [row[c] for c in _COLUMNS],
    )


def update(conn: Conn, rollout_id: str, **values: Any) -> None:
    bad = set(values) - _UPDATABLE
    if bad:
        raise ValueError(f"not updatable: {bad}")
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE rollouts SET {sets} WHERE id = ?", [*values.values(), rollout_id])


def latest(conn: Conn, model_id: str, environment: str) -> dict[str, Any] | None:
    return conn.row(
        "SELECT * FROM rollouts WHERE model_id = ? AND environment = ?"
        " ORDER BY started_at DESC, id DESC LIMIT 1",
        [model_id, environment],
    )


def get(conn: Conn, rollout_id: str) -> dict[str, Any] | None:
    return conn.row("SELECT * FROM rollouts WHERE id = ?", [rollout_id])


def active(conn: Conn) -> list[dict[str, Any]]:
    return conn.rows(
        "SELECT * FROM rollouts WHERE status IN ('running', 'paused') ORDER BY started_at"
    )


def add_system_event(
    conn: Conn,
    at: datetime,
    kind: str,
    severity: str,
    message: str,
    model_id: str | None = None,
    environment: str | None = None,
    payload: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO system_events (occurred_at, kind, severity, model_id, environment, message, payload)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [at, kind, severity, model_id, environment, message, payload],
    )


def system_events(
    conn: Conn, model_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    if model_id is None:
        return conn.rows("SELECT * FROM system_events ORDER BY id DESC LIMIT ?", [limit])
    return conn.rows(
        "SELECT * FROM system_events WHERE model_id = ? ORDER BY id DESC LIMIT ?", [model_id, limit]
    )
