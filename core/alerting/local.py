"""`LocalEngine`'s alerting operations (`core.alerting.protocol.Alerting`), in this process.

`evaluate_alerts` is `LocalEngine`'s own: it reads monitoring's values for the rules."""

from __future__ import annotations

from core.alerting.manager import AlertManager
from core.alerting.types import Alert, Silence, Transition
from core.domain import AlertRule
from core.forward import forward


class LocalAlerting:
    """Alerting operations over `AlertManager`, audited under the engine's actor."""

    actor: str
    alerts: AlertManager

    list_silences = forward("alerts", AlertManager.list_silences)

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
        return self.alerts.create_rule(
            model, metric, comparison, threshold, window_s=window_s, for_s=for_s,
            severity=severity, channels=channels, repeat_s=repeat_s, actor=self.actor,
        )  # fmt: skip

    def list_alert_rules(self, *, model: str | None = None) -> list[AlertRule]:
        return self.alerts.list_rules(model)

    def set_alert_rule_active(self, rule_id: str, active: bool, *, reason: str = "") -> AlertRule:
        return self.alerts.set_active(rule_id, active, actor=self.actor, reason=reason)

    def delete_alert_rule(self, rule_id: str, *, reason: str = "") -> AlertRule:
        return self.alerts.delete_rule(rule_id, actor=self.actor, reason=reason)

    def list_alerts(
        self, *, state: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Alert]:
        return self.alerts.list_alerts(state, model, limit=limit)

    def alert_history(
        self, *, alert_id: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Transition]:
        return self.alerts.history(alert_id, model, limit=limit)

    def ack_alert(self, alert_id: str, comment: str) -> Alert:
        return self.alerts.ack(alert_id, comment, actor=self.actor)

    def silence_alerts(
        self,
        *,
        rule_id: str | None = None,
        model: str | None = None,
        duration_s: float,
        comment: str = "",
    ) -> Silence:
        return self.alerts.silence(
            rule_id=rule_id, model_id=model, duration_s=duration_s, comment=comment,
            actor=self.actor,
        )  # fmt: skip

    def expire_silence(self, silence_id: str, *, reason: str = "") -> Silence:
        return self.alerts.expire_silence(silence_id, actor=self.actor, reason=reason)
