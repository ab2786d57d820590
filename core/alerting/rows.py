"""Row mapping: alerting's stored rows (`storage.repos.alerts`) into its types, and the
lookups that say `NotFound` when a row is missing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from core.alerting.types import Alert, AlertStatus, Delivery, Silence, Transition
from core.clock import as_utc
from core.domain import AlertRule, ComparisonOperator, Severity
from core.errors import NotFound
from storage.conn import Conn
from storage.repos import alerts as repo
from storage.repos import models as models_repo


def get_rule(conn: Conn, rule_id: str) -> AlertRule:
    row = repo.get_rule(conn, rule_id)
    if row is None:
        raise NotFound(f"alert rule {rule_id!r} not found")
    return rule(row)


def get_alert(conn: Conn, alert_id: str) -> Alert:
    row = repo.get_alert(conn, alert_id)
    if row is None:
        raise NotFound(f"alert {alert_id!r} not found")
    return alert(row)


def require_model(conn: Conn, model_id: str) -> None:
    # Checked although typed: callers outside the type checker may pass anything.
    if not isinstance(cast(object, model_id), str) or models_repo.get(conn, model_id) is None:
        raise NotFound(f"model {model_id!r} not found")


def _maybe_dt(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def rule(row: dict[str, Any]) -> AlertRule:
    channels = row["channels"]
    return AlertRule(
        id=row["id"],
        model_id=row["model_id"],
        metric_name=row["metric_name"],
        threshold=float(row["threshold"]),
        comparison=ComparisonOperator(row["comparison"]),
        notification_channels=list(json.loads(channels) if isinstance(channels, str) else channels),
        is_active=bool(row["is_active"]),
        window_s=int(row["window_s"]),
        for_s=int(row["for_s"]),
        severity=Severity(row["severity"]),
        repeat_s=int(row["repeat_s"]),
        created_at=_maybe_dt(row.get("created_at")),
        created_by=row.get("created_by") or "",
    )


def alert(row: dict[str, Any]) -> Alert:
    return Alert(
        id=row["id"],
        rule_id=row["rule_id"],
        model_id=row["model_id"],
        state=AlertStatus(row["state"]),
        metric_name=row["metric_name"],
        comparison=ComparisonOperator(row["comparison"]),
        threshold=float(row["threshold"]),
        severity=Severity(row["severity"]),
        value=None if row["value"] is None else float(row["value"]),
        samples=None if row["samples"] is None else int(row["samples"]),
        started_at=as_utc(row["started_at"]),
        updated_at=as_utc(row["updated_at"]),
        fired_at=_maybe_dt(row["fired_at"]),
        resolved_at=_maybe_dt(row["resolved_at"]),
        last_notified_at=_maybe_dt(row["last_notified_at"]),
        notifications=int(row["notifications"]),
        acked_at=_maybe_dt(row["acked_at"]),
        acked_by=row["acked_by"],
        ack_comment=row["ack_comment"],
    )


def transition(row: dict[str, Any]) -> Transition:
    return Transition(
        id=int(row["id"]),
        alert_id=row["alert_id"],
        rule_id=row["rule_id"],
        model_id=row["model_id"],
        at=as_utc(row["occurred_at"]),
        from_state=AlertStatus(row["from_state"]),
        to_state=AlertStatus(row["to_state"]),
        value=None if row["value"] is None else float(row["value"]),
        samples=None if row["samples"] is None else int(row["samples"]),
        kind=row["kind"],
        actor=row["actor"],
        message=row["message"],
    )


def silence(row: dict[str, Any]) -> Silence:
    return Silence(
        id=row["id"],
        rule_id=row["rule_id"],
        model_id=row["model_id"],
        starts_at=as_utc(row["starts_at"]),
        ends_at=as_utc(row["ends_at"]),
        comment=row["comment"],
        created_by=row["created_by"],
        created_at=as_utc(row["created_at"]),
        expired_at=_maybe_dt(row.get("expired_at")),
        expired_by=row.get("expired_by"),
    )


def delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(
        id=int(row["id"]),
        channel=row["channel"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        created_at=as_utc(row["created_at"]),
        next_attempt_at=as_utc(row["next_attempt_at"]),
        attempts=int(row["attempts"]),
        alert_id=row["alert_id"],
        event_id=None if row["event_id"] is None else int(row["event_id"]),
        delivered_at=_maybe_dt(row["delivered_at"]),
        gave_up_at=_maybe_dt(row["gave_up_at"]),
        last_error=row["last_error"],
    )
