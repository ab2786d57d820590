"""Rows of `training_jobs`, `training_trials`, `training_logs`, and per-version training data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.conn import Conn

_JOB_COLUMNS = ("id", "model_id", "status", "config", "config_path", "actor", "created_at")


def insert_job(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO training_jobs ({', '.join(_JOB_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(_JOB_COLUMNS))})",
        [row[c] for c in _JOB_COLUMNS],
    )


_UPDATABLE = {
    "status",
    "progress",
    "message",
    "trials_done",
    "trials_total",
    "best_score",
    "error",
    "result_version",
    "outcome",
    "started_at",
    "finished_at",
}


def update_job(conn: Conn, job_id: str, **values: Any) -> None:
    bad = set(values) - _UPDATABLE
    if bad:
        raise ValueError(f"not updatable: {bad}")
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE training_jobs SET {sets} WHERE id = ?", [*values.values(), job_id])


def get_job(conn: Conn, job_id: str) -> dict[str, Any] | None:
    return conn.row("SELECT * FROM training_jobs WHERE id = ?", [job_id])


def list_jobs(
    conn: Conn, model_id: str | None = None, limit: int = 100, statuses: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    where: list[str] = []
    params: list[object] = []
    if model_id is not None:
        where.append("model_id = ?")
        params.append(model_id)
    if statuses:
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        params += list(statuses)
    sql = "SELECT * FROM training_jobs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return conn.rows(sql + " ORDER BY created_at DESC, id DESC LIMIT ?", [*params, limit])


def insert_trial(conn: Conn, job_id: str, trial: dict[str, Any]) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO training_trials"
        " (job_id, number, params, score, std, fit_time_s, status, error, resources, iteration)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            job_id,
            trial["number"],
            trial["params"],
            trial["score"],
            trial["std"],
            trial["fit_time_s"],
            trial["status"],
            trial.get("error"),
            trial.get("resources"),
            trial.get("iteration"),
        ],
    )


def trials(conn: Conn, job_id: str) -> list[dict[str, Any]]:
    return conn.rows("SELECT * FROM training_trials WHERE job_id = ? ORDER BY number", [job_id])


def trial_tally(conn: Conn, job_id: str) -> tuple[int, float | None]:
    """(trials recorded, best score among those that succeeded) of a job."""
    row = conn.row(
        "SELECT count(*) AS done, max(score) FILTER (WHERE status = 'ok') AS best"
        " FROM training_trials WHERE job_id = ?",
        [job_id],
    )
    assert row is not None  # an aggregate without GROUP BY always answers one row
    return int(row["done"]), row["best"]


def append_log(conn: Conn, job_id: str, at: datetime, level: str, message: str) -> None:
    conn.execute(
        "INSERT INTO training_logs (job_id, seq, logged_at, level, message)"
        " SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ? FROM training_logs WHERE job_id = ?",
        [job_id, at, level, message, job_id],
    )


def logs(conn: Conn, job_id: str, after_seq: int = 0) -> list[dict[str, Any]]:
    return conn.rows(
        "SELECT seq, logged_at, level, message FROM training_logs"
        " WHERE job_id = ? AND seq > ? ORDER BY seq",
        [job_id, after_seq],
    )


def insert_version_training(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO version_training (version_id, config, seed, data_path, data_rows, validation)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [row[c] for c in ("version_id", "config", "seed", "data_path", "data_rows", "validation")],
    )


def version_training(conn: Conn, version_id: str) -> dict[str, Any] | None:
    return conn.row("SELECT * FROM version_training WHERE version_id = ?", [version_id])


def insert_profile(conn: Conn, version_id: str, profile_json: str) -> None:
    conn.execute(
        "INSERT INTO version_profiles (version_id, profile) VALUES (?, ?)",
        [version_id, profile_json],
    )


def profile(conn: Conn, version_id: str) -> str | None:
    got = conn.scalar("SELECT profile FROM version_profiles WHERE version_id = ?", [version_id])
    return None if got is None else str(got)


def insert_reference_samples(conn: Conn, version_id: str, samples: dict[str, list[float]]) -> None:
    for feature, values in samples.items():
        conn.execute(
            "INSERT INTO reference_samples (version_id, feature, vals) VALUES (?, ?, ?)",
            [version_id, feature, values],
        )


def reference_samples(conn: Conn, version_id: str) -> dict[str, list[float]]:
    rows = conn.rows(
        "SELECT feature, vals FROM reference_samples WHERE version_id = ?", [version_id]
    )
    return {r["feature"]: list(r["vals"]) for r in rows}


def fail_unfinished(conn: Conn, at: datetime, reason: str) -> int:
    """Mark queued/running jobs failed with `reason`: an owner opening the store finds them
    left by one that died (their workers died with it), and logs the reason in each."""
    count = int(
        conn.scalar("SELECT count(*) FROM training_jobs WHERE status IN ('queued', 'running')")
    )
    if count:
        conn.execute(
            "INSERT INTO training_logs (job_id, seq, logged_at, level, message)"
            " SELECT j.id, coalesce(max(l.seq), 0) + 1, ?, 'error', ? FROM training_jobs j"
            " LEFT JOIN training_logs l ON l.job_id = j.id"
            " WHERE j.status IN ('queued', 'running') GROUP BY j.id",
            [at, reason],
        )
        conn.execute(
            "UPDATE training_jobs SET status = 'failed', error = ?, finished_at = ?,"
            " message = ? WHERE status IN ('queued', 'running')",
            [reason, at, reason],
        )
    return count
