"""Alerting's operations of the engine (`core.engine.Engine`). Each is declared here once, with its
in-process body (see `core/engine.py`)."""

from __future__ import annotations

from typing import Protocol

from core.alerting.manager import AlertManager
from core.alerting.types import Alert, Silence, Transition
from core.domain import AlertRule
from core.forward import forward, in_process


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    actor: str
    alerts: AlertManager


class Alerting(Protocol):
    """Alert rules, alerts and their history, acknowledgements and silences."""

    def create_alert_rule(
        self,
        model: str,
        metric: str,
        comparison: str,
        threshold: float,
        *,
        window_s: int = 300,
        for_s: int = 0,
        severity: str = "warning",
        channels: list[str] | None = None,
        repeat_s: int = 3600,
    ) -> AlertRule:
        parts = in_process(self, _Parts)
        return parts.alerts.create_rule(
            model, metric, comparison, threshold, window_s=window_s, for_s=for_s,
            severity=severity, channels=channels, repeat_s=repeat_s, actor=parts.actor,
        )  # fmt: skip

    def list_alert_rules(self, *, model: str | None = None) -> list[AlertRule]:
        parts = in_process(self, _Parts)
        return parts.alerts.list_rules(model)

    def set_alert_rule_active(self, rule_id: str, active: bool, *, reason: str = "") -> AlertRule:
        parts = in_process(self, _Parts)
        return parts.alerts.set_active(rule_id, active, actor=parts.actor, reason=reason)

    def delete_alert_rule(self, rule_id: str, *, reason: str = "") -> AlertRule:
        parts = in_process(self, _Parts)
        return parts.alerts.delete_rule(rule_id, actor=parts.actor, reason=reason)

    def list_alerts(
        self, *, state: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Alert]:
        parts = in_process(self, _Parts)
        return parts.alerts.list_alerts(state, model, limit=limit)

    def alert_history(
        self, *, alert_id: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Transition]:
        parts = in_process(self, _Parts)
        return parts.alerts.history(alert_id, model, limit=limit)

    def ack_alert(self, alert_id: str, comment: str) -> Alert:
        parts = in_process(self, _Parts)
        return parts.alerts.ack(alert_id, comment, actor=parts.actor)

    def silence_alerts(
        self,
        *,
        rule_id: str | None = None,
        model: str | None = None,
        duration_s: float,
        comment: str = "",
    ) -> Silence:
        parts = in_process(self, _Parts)
        return parts.alerts.silence(
            rule_id=rule_id, model_id=model, duration_s=duration_s, comment=comment,
            actor=parts.actor,
        )  # fmt: skip

    def get_alert(self, alert_id: str) -> Alert:
        """One alert: its rule's condition, state, last value and acknowledgement."""
        return in_process(self, _Parts).alerts.get_alert(alert_id)

    list_silences = forward("alerts", AlertManager.list_silences)

    def expire_silence(self, silence_id: str, *, reason: str = "") -> Silence:
        parts = in_process(self, _Parts)
        return parts.alerts.expire_silence(silence_id, actor=parts.actor, reason=reason)

    def evaluate_alerts(self) -> list[Transition]: ...
