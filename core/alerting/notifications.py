"""What a notification says: the payload of an alert's firing, repeat or resolution, and of a
routed system event. The same keys for both, so a receiver parses one shape."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.alerting.types import Alert
from core.clock import as_utc
from core.domain import AlertRule


def _iso(when: datetime | None) -> str | None:
    return None if when is None else as_utc(when).isoformat()


def alert_payload(alert: Alert, rule: AlertRule, kind: str) -> dict[str, Any]:
    shown = "no data" if alert.value is None else f"{alert.value:.6g}"
    condition = f"{rule.metric_name} = {shown} {rule.comparison.value} {rule.threshold:g}"
    if kind == "resolved":
        message = (
            f"[resolved] {alert.model_id}: {rule.metric_name} = {shown}, no longer"
            f" {rule.comparison.value} {rule.threshold:g} (rule {rule.id}, alert {alert.id})"
        )
    else:
        since = alert.fired_at or alert.started_at
        verb = "still firing" if kind == "repeat" else "firing"
        message = (
            f"[{rule.severity.value}] {alert.model_id}: {condition} — {verb} since"
            f" {since:%Y-%m-%d %H:%M:%S}Z (rule {rule.id}, alert {alert.id})"
        )
    return {
        "kind": kind,
        "alert_id": alert.id,
        "rule_id": rule.id,
        "model": alert.model_id,
        "metric": rule.metric_name,
        "value": alert.value,
        "threshold": rule.threshold,
        "comparison": rule.comparison.value,
        "state": alert.state.value,
        "severity": rule.severity.value,
        "started_at": _iso(alert.started_at),
        "fired_at": _iso(alert.fired_at),
        "resolved_at": _iso(alert.resolved_at),
        "message": message,
        "event": None,
    }


def event_payload(ev: dict[str, Any], metric: str, routed: list[AlertRule]) -> dict[str, Any]:
    occurred = _iso(ev["occurred_at"])
    extra = ev.get("payload")
    try:
        parsed = json.loads(extra) if isinstance(extra, str) else extra
    except ValueError:
        parsed = extra
    model = ev["model_id"]
    return {
        "kind": "event",
        "alert_id": None,
        "rule_id": routed[0].id if routed else None,
        "model": model,
        "metric": metric,
        "value": None,
        "threshold": None,
        "comparison": None,
        "state": "event",
        "severity": ev["severity"],
        "started_at": occurred,
        "fired_at": occurred,
        "resolved_at": None,
        "message": f"[{ev['severity']}] {ev['kind']}: {ev['message']}",
        "event": {
            "id": int(ev["id"]),
            "kind": ev["kind"],
            "severity": ev["severity"],
            "model_id": model,
            "environment": ev.get("environment"),
            "occurred_at": occurred,
            "message": ev["message"],
            "payload": parsed,
        },
    }
