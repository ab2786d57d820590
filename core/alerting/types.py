"""Alerting's domain types. `Rule` carries the seed's `AlertRule` fields plus what the
evaluator needs (`repeat_s`, provenance); `to_alert_rule()` gives the seed's type back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.domain import AlertRule, AlertState, ComparisonOperator, Severity

AlertStatus = AlertState
"""The domain's alert state, under the name alerting's modules use."""


@dataclass
class Rule:
    id: str
    model_id: str
    metric_name: str
    threshold: float
    comparison: ComparisonOperator
    notification_channels: list[str]
    is_active: bool = True
    window_s: int = 300
    for_s: int = 0
    severity: Severity = Severity.WARNING
    repeat_s: int = 3600
    """Seconds between repeated notifications of a firing, unacknowledged alert; 0: never."""
    created_at: datetime | None = None
    created_by: str = ""

    @property
    def is_event_rule(self) -> bool:
        """`event.<kind>` rules route system events; they are not evaluated against values."""
        return self.metric_name.startswith("event.")

    def describe(self) -> str:
        if self.is_event_rule:
            return f"{self.metric_name} events of {self.model_id}"
        text = f"{self.metric_name} {self.comparison.value} {self.threshold:g}"
        return text + (f" for {self.for_s}s" if self.for_s else "")

    def to_alert_rule(self) -> AlertRule:
        return AlertRule(
            id=self.id,
            model_id=self.model_id,
            metric_name=self.metric_name,
            threshold=self.threshold,
            comparison=self.comparison,
            notification_channels=list(self.notification_channels),
            is_active=self.is_active,
            window_s=self.window_s,
            for_s=self.for_s,
            severity=self.severity,
        )


@dataclass
class Alert:
    id: str
    rule_id: str
    model_id: str
    state: AlertStatus
    metric_name: str
    comparison: ComparisonOperator
    threshold: float
    severity: Severity
    value: float | None
    samples: int | None
    started_at: datetime
    updated_at: datetime
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    last_notified_at: datetime | None = None
    notifications: int = 0
    acked_at: datetime | None = None
    acked_by: str | None = None
    ack_comment: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.acked_at is not None


@dataclass(frozen=True)
class Transition:
    """One entry of the alert history: a state change (`kind="state"`) or an ack."""

    id: int
    alert_id: str
    rule_id: str
    model_id: str
    at: datetime
    from_state: AlertStatus
    to_state: AlertStatus
    value: float | None = None
    samples: int | None = None
    kind: str = "state"
    actor: str = "evaluator"
    message: str = ""


@dataclass
class Silence:
    id: str
    rule_id: str | None
    model_id: str | None
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str
    created_at: datetime
    expired_at: datetime | None = None
    expired_by: str | None = None

    def active_at(self, when: datetime) -> bool:
        return self.starts_at <= when < self.ends_at

    def matches(self, rule_id: str | None, model_id: str | None) -> bool:
        return (self.rule_id is None or self.rule_id == rule_id) and (
            self.model_id is None or self.model_id == model_id
        )


@dataclass
class Delivery:
    """One notification to one channel: the outbox row."""

    id: int
    channel: str
    kind: str
    """firing | repeat | resolved | event."""
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    alert_id: str | None = None
    event_id: int | None = None
    delivered_at: datetime | None = None
    gave_up_at: datetime | None = None
    last_error: str | None = None

    @property
    def status(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        if self.gave_up_at is not None:
            return "failed"
        return "pending" if self.attempts == 0 else "retrying"


@dataclass(frozen=True)
class DeliveryReport:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    """Attempts that failed and will be retried."""
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)
