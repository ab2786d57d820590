"""Rows of `retrain_policies` and `retrain_runs`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.conn import Conn


def next_id(conn: Conn) -> str:
    return f"p{int(conn.scalar('SELECT count(*) FROM retrain_policies')) + 1}"


def insert(conn: Conn, row: dict[str, Any]) -> None:
    cols = (
        "id",
        "model_id",
        "rule_id",
        "config_path",
        "cooldown_s",
        "canary",
        "is_active",
        "created_at",
        "created_by",
    )
    conn.execute(
        f"INSERT INTO retrain_policies ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )


def get(conn: Conn, policy_id: str) -> dict[str, Any] | None:
    return conn.row(
        "SELECT * FROM retrain_policies WHERE id = ? AND deleted_at IS NULL", [policy_id]
    )


def list_live(conn: Conn, model_id: str | None = None) -> list[dict[str, Any]]:
    if model_id is None:
        return conn.rows(
            "SELECT * FROM retrain_policies WHERE deleted_at IS NULL ORDER BY created_at"
        )
    return conn.rows(
        "SELECT * FROM retrain_policies WHERE deleted_at IS NULL AND model_id = ? ORDER BY created_at",
        [model_id],
    )


def delete(conn: Conn, policy_id: str, at: datetime) -> None:
    conn.execute("UPDATE retrain_policies SET deleted_at = ? WHERE id = ?", [at, policy_id])


def add_run(
    conn: Conn, policy_id: str, at: datetime, outcome: str, *, alert_id: str | None = None,
    job_id: str | None = None, detail: str = "",
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO retrain_runs (policy_id, seq, ran_at, alert_id, job_id, outcome, detail)"
        " SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ?, ?, ? FROM retrain_runs WHERE policy_id = ?",
        [policy_id, at, alert_id, job_id, outcome, detail, policy_id],
    )


def runs(conn: Conn, policy_id: str) -> list[dict[str, Any]]:
    return conn.rows("SELECT * FROM retrain_runs WHERE policy_id = ? ORDER BY seq", [policy_id])


def last_triggered(conn: Conn, policy_id: str) -> datetime | None:
    return conn.scalar(
        "SELECT max(ran_at) FROM retrain_runs WHERE policy_id = ? AND outcome = 'triggered'",
        [policy_id],
    )


def policy_of_job(conn: Conn, job_id: str) -> str | None:
    return conn.scalar(
        "SELECT policy_id FROM retrain_runs WHERE job_id = ? AND outcome = 'triggered' LIMIT 1",
        [job_id],
    )
