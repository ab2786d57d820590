"""Rows of `alert_rules`, `alerts`, `alert_history`, `alert_silences`, `alert_deliveries` and
`alert_cursors` (plus a read of new `system_events`). The state machine lives in
`core.alerting`."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from typing import Any

from storage.conn import Conn

_RULE_COLUMNS = (
    "id", "model_id", "metric_name", "comparison", "threshold", "window_s", "for_s",
    "severity", "channels", "repeat_s", "is_active", "created_at", "created_by",
)  # fmt: skip
_RULE_UPDATABLE = {"is_active", "deleted_at", "deleted_by"}

_ALERT_COLUMNS = (
    "id", "rule_id", "model_id", "state", "value", "samples", "started_at", "fired_at",
    "resolved_at", "updated_at", "last_notified_at", "notifications", "acked_at", "acked_by",
    "ack_comment",
)  # fmt: skip
_ALERT_UPDATABLE = set(_ALERT_COLUMNS) - {"id", "rule_id", "model_id", "started_at"}

_HISTORY_COLUMNS = (
    "alert_id", "rule_id", "model_id", "occurred_at", "kind", "from_state", "to_state",
    "value", "samples", "actor", "message",
)  # fmt: skip

_SILENCE_COLUMNS = (
    "id", "rule_id", "model_id", "starts_at", "ends_at", "comment", "created_by", "created_at",
)  # fmt: skip

_DELIVERY_COLUMNS = (
    "alert_id", "event_id", "channel", "kind", "payload", "created_at", "next_attempt_at",
)  # fmt: skip
_DELIVERY_UPDATABLE = {"attempts", "next_attempt_at", "delivered_at", "gave_up_at", "last_error"}

_SEQUENCES = {"rule": "alert_rule_seq", "alert": "alert_seq", "silence": "alert_silence_seq"}


def _insert(conn: Conn, table: str, columns: tuple[str, ...], row: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [row[c] for c in columns],
    )


def _update(conn: Conn, table: str, allowed: Set[str], key: Any, values: dict[str, Any]) -> None:
    bad = set(values) - allowed
    if bad:
        raise ValueError(f"not updatable in {table}: {sorted(bad)}")
    if not values:
        return
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*values.values(), key])


def next_number(conn: Conn, kind: str) -> int:
    """The next number of the `rule`, `alert` or `silence` sequence."""
    return int(conn.scalar(f"SELECT nextval('{_SEQUENCES[kind]}')"))


# --- rules -------------------------------------------------------------------------------


def insert_rule(conn: Conn, row: dict[str, Any]) -> None:
    _insert(conn, "alert_rules", _RULE_COLUMNS, row)


def update_rule(conn: Conn, rule_id: str, **values: Any) -> None:
    _update(conn, "alert_rules", _RULE_UPDATABLE, rule_id, values)


def get_rule(conn: Conn, rule_id: str, *, include_deleted: bool = False) -> dict[str, Any] | None:
    sql = "SELECT * FROM alert_rules WHERE id = ?"
    if not include_deleted:
        sql += " AND deleted_at IS NULL"
    return conn.row(sql, [rule_id])


def list_rules(
    conn: Conn, model_id: str | None = None, *, active_only: bool = False
) -> list[dict[str, Any]]:
    where = ["deleted_at IS NULL"]
    params: list[object] = []
    if model_id is not None:
        where.append("model_id = ?")
        params.append(model_id)
    if active_only:
        where.append("is_active")
    return conn.rows(
        f"SELECT * FROM alert_rules WHERE {' AND '.join(where)} ORDER BY created_at, id", params
    )


# --- alerts ------------------------------------------------------------------------------

_ALERT_SELECT = (
    "SELECT a.*, r.metric_name, r.comparison, r.threshold, r.severity, r.channels,"
    " r.window_s, r.for_s, r.repeat_s"
    " FROM alerts a JOIN alert_rules r ON r.id = a.rule_id"
)


def insert_alert(conn: Conn, row: dict[str, Any]) -> None:
    _insert(conn, "alerts", _ALERT_COLUMNS, row)


def update_alert(conn: Conn, alert_id: str, **values: Any) -> None:
    _update(conn, "alerts", _ALERT_UPDATABLE, alert_id, values)


def get_alert(conn: Conn, alert_id: str) -> dict[str, Any] | None:
    return conn.row(f"{_ALERT_SELECT} WHERE a.id = ?", [alert_id])


def open_alert(conn: Conn, rule_id: str, model_id: str) -> dict[str, Any] | None:
    return conn.row(
        f"{_ALERT_SELECT} WHERE a.rule_id = ? AND a.model_id = ?"
        " AND a.state IN ('pending', 'firing') ORDER BY a.started_at DESC LIMIT 1",
        [rule_id, model_id],
    )


def open_alerts_of_rule(conn: Conn, rule_id: str) -> list[dict[str, Any]]:
    return conn.rows(
        f"{_ALERT_SELECT} WHERE a.rule_id = ? AND a.state IN ('pending', 'firing')", [rule_id]
    )


def list_alerts(
    conn: Conn,
    *,
    states: list[str] | None = None,
    model_id: str | None = None,
    rule_id: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    where: list[str] = []
    params: list[object] = []
    if states:
        where.append(f"a.state IN ({', '.join('?' * len(states))})")
        params += states
    if model_id is not None:
        where.append("a.model_id = ?")
        params.append(model_id)
    if rule_id is not None:
        where.append("a.rule_id = ?")
        params.append(rule_id)
    sql = _ALERT_SELECT
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY a.started_at DESC, a.id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return conn.rows(sql, params)


# --- history -----------------------------------------------------------------------------


def insert_history(conn: Conn, row: dict[str, Any]) -> int:
    _insert(conn, "alert_history", _HISTORY_COLUMNS, row)
    return int(conn.scalar("SELECT currval('alert_history_seq')"))


def history(
    conn: Conn,
    *,
    alert_id: str | None = None,
    model_id: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    where: list[str] = []
    params: list[object] = []
    if alert_id is not None:
        where.append("alert_id = ?")
        params.append(alert_id)
    if model_id is not None:
        where.append("model_id = ?")
        params.append(model_id)
    if since is not None:
        where.append("occurred_at >= ?")
        params.append(since)
    sql = "SELECT * FROM alert_history"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id"
    if limit is not None:
        # the newest `limit` entries, still oldest first
        sql = f"SELECT * FROM ({sql} DESC LIMIT ?) ORDER BY id"
        params.append(limit)
    return conn.rows(sql, params)


# --- silences ----------------------------------------------------------------------------


def insert_silence(conn: Conn, row: dict[str, Any]) -> None:
    _insert(conn, "alert_silences", _SILENCE_COLUMNS, row)


def get_silence(conn: Conn, silence_id: str) -> dict[str, Any] | None:
    return conn.row("SELECT * FROM alert_silences WHERE id = ?", [silence_id])


def end_silence(conn: Conn, silence_id: str, at: datetime, by: str) -> None:
    conn.execute(
        "UPDATE alert_silences SET ends_at = ?, expired_at = ?, expired_by = ? WHERE id = ?",
        [at, at, by, silence_id],
    )


def list_silences(conn: Conn, *, active_at: datetime | None = None) -> list[dict[str, Any]]:
    if active_at is None:
        return conn.rows("SELECT * FROM alert_silences ORDER BY created_at, id")
    return conn.rows(
        "SELECT * FROM alert_silences WHERE starts_at <= ? AND ends_at > ? ORDER BY created_at, id",
        [active_at, active_at],
    )


# --- deliveries --------------------------------------------------------------------------


def insert_delivery(conn: Conn, row: dict[str, Any]) -> int:
    _insert(conn, "alert_deliveries", _DELIVERY_COLUMNS, row)
    return int(conn.scalar("SELECT currval('alert_delivery_seq')"))


def update_delivery(conn: Conn, delivery_id: int, **values: Any) -> None:
    _update(conn, "alert_deliveries", _DELIVERY_UPDATABLE, delivery_id, values)


def queued_deliveries(conn: Conn, per_channel: int = 100) -> list[dict[str, Any]]:
    """The oldest `per_channel` undelivered, not given-up rows of each channel, oldest first."""
    return conn.rows(
        "SELECT * EXCLUDE (rn) FROM ("
        " SELECT *, row_number() OVER (PARTITION BY channel ORDER BY id) AS rn"
        " FROM alert_deliveries WHERE delivered_at IS NULL AND gave_up_at IS NULL"
        ") WHERE rn <= ? ORDER BY id",
        [per_channel],
    )


def list_deliveries(
    conn: Conn,
    *,
    alert_id: str | None = None,
    undelivered_only: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    where: list[str] = []
    params: list[object] = []
    if alert_id is not None:
        where.append("alert_id = ?")
        params.append(alert_id)
    if undelivered_only:
        where.append("delivered_at IS NULL")
    sql = "SELECT * FROM alert_deliveries"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id"
    if limit is not None:
        sql = f"SELECT * FROM ({sql} DESC LIMIT ?) ORDER BY id"
        params.append(limit)
    return conn.rows(sql, params)


# --- system events -----------------------------------------------------------------------


def get_cursor(conn: Conn, name: str) -> int:
    got = conn.scalar("SELECT value FROM alert_cursors WHERE name = ?", [name])
    return int(got) if got is not None else 0


def set_cursor(conn: Conn, name: str, value: int) -> None:
    conn.execute(
        "INSERT INTO alert_cursors (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [name, value],
    )


def system_events_after(conn: Conn, after_id: int, limit: int = 500) -> list[dict[str, Any]]:
    return conn.rows(
        "SELECT * FROM system_events WHERE id > ? ORDER BY id LIMIT ?", [after_id, limit]
    )
