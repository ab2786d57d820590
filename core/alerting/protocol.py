"""Alerting's operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from typing import Protocol

from core.alerting.types import Alert, Silence, Transition
from core.domain import AlertRule


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
    ) -> AlertRule: ...

    def list_alert_rules(self, *, model: str | None = None) -> list[AlertRule]: ...

    def set_alert_rule_active(
        self, rule_id: str, active: bool, *, reason: str = ""
    ) -> AlertRule: ...

    def delete_alert_rule(self, rule_id: str, *, reason: str = "") -> AlertRule: ...

    def list_alerts(
        self, *, state: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Alert]: ...

    def alert_history(
        self, *, alert_id: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Transition]: ...

    def ack_alert(self, alert_id: str, comment: str) -> Alert: ...

    def silence_alerts(
        self,
        *,
        rule_id: str | None = None,
        model: str | None = None,
        duration_s: float,
        comment: str = "",
    ) -> Silence: ...

    def list_silences(self, *, active_only: bool = False) -> list[Silence]: ...

    def expire_silence(self, silence_id: str, *, reason: str = "") -> Silence: ...

    def evaluate_alerts(self) -> list[Transition]: ...
