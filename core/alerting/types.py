"""Alerting's domain types. A rule is the domain's `AlertRule` (`core.domain`): one rule
type for the engine, the API, the client and the console."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.domain import AlertState, ComparisonOperator, Severity

AlertStatus = AlertState
"""The domain's alert state, under the name alerting's modules use."""


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
