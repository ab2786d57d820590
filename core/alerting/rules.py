"""The rule book: create, read, enable, disable and delete alert rules, each change audited.
What a rule may say is checked in `core.alerting.checks`."""

from __future__ import annotations

from typing import Any, cast

from core import audit
from core.alerting import checks as check
from core.alerting import rows
from core.alerting.base import ManagerBase
from core.alerting.evaluation import close_open_alerts
from core.domain import AlertRule, ComparisonOperator, Severity
from core.errors import InvalidInput
from core.jsonable import canonical_json, to_jsonable
from storage.repos import alerts as repo


class RuleBook(ManagerBase):
    def create_rule(
        self,
        model_id: str,
        metric: str,
        comparison: str | ComparisonOperator,
        threshold: float,
        *,
        window_s: int = 300,
        for_s: int = 0,
        severity: str | Severity = "warning",
        channels: list[str] | tuple[str, ...] | None = None,
        repeat_s: int = 3600,
        is_active: bool = True,
        actor: str,
    ) -> AlertRule:
        metric_name = check.metric(metric)
        op = check.comparison(comparison)
        thr = check.threshold(threshold)
        window = check.duration(window_s, "window", minimum=1)
        for_ = check.duration(for_s, "for-duration")
        repeat = check.duration(repeat_s, "repeat interval")
        sev = check.severity(severity)
        chans = check.channels(["console"] if channels is None else channels)
        # Checked although typed: callers outside the type checker may pass anything.
        if not isinstance(cast(object, is_active), bool):
            raise InvalidInput(f"is_active must be true or false, not {is_active!r}")
        now = self.now()
        with self.store.write() as conn:
            rows.require_model(conn, model_id)
            rule_id = f"r{repo.next_number(conn, 'rule')}"
            row = {
                "id": rule_id,
                "model_id": model_id,
                "metric_name": metric_name,
                "comparison": op.value,
                "threshold": thr,
                "window_s": window,
                "for_s": for_,
                "severity": sev.value,
                "channels": canonical_json(chans),
                "repeat_s": repeat,
                "is_active": is_active,
                "created_at": now,
                "created_by": actor,
            }
            repo.insert_rule(conn, row)
            rule = rows.rule(row)
            audit.append(
                conn, actor=actor, action="alert.rule.create", target=rule_id, model_id=model_id,
                after=rule_summary(rule), at=now,
            )  # fmt: skip
        return rule

    def get_rule(self, rule_id: str) -> AlertRule:
        with self.store.read() as conn:
            return rows.get_rule(conn, rule_id)

    def list_rules(self, model_id: str | None = None) -> list[AlertRule]:
        with self.store.read() as conn:
            return [rows.rule(r) for r in repo.list_rules(conn, model_id)]

    def set_active(self, rule_id: str, active: bool, *, actor: str, reason: str = "") -> AlertRule:
        """Enable or disable a rule. Disabling closes its open alerts (no notification)."""
        if not isinstance(cast(object, active), bool):
            raise InvalidInput(f"active must be true or false, not {active!r}")
        now = self.now()
        with self.store.write() as conn:
            rule = rows.get_rule(conn, rule_id)
            if rule.is_active == active:
                return rule
            repo.update_rule(conn, rule_id, is_active=active)
            if not active:
                close_open_alerts(conn, rule, now, actor, "rule disabled")
            audit.append(
                conn, actor=actor, action=f"alert.rule.{'enable' if active else 'disable'}",
                target=rule_id, model_id=rule.model_id, before={"is_active": rule.is_active},
                after={"is_active": active}, reason=reason, at=now,
            )  # fmt: skip
            rule.is_active = active
        return rule

    def delete_rule(self, rule_id: str, *, actor: str, reason: str = "") -> AlertRule:
        """Delete a rule (its alerts and history are kept). Its open alerts are closed."""
        now = self.now()
        with self.store.write() as conn:
            rule = rows.get_rule(conn, rule_id)
            close_open_alerts(conn, rule, now, actor, "rule deleted")
            repo.update_rule(conn, rule_id, deleted_at=now, deleted_by=actor, is_active=False)
            audit.append(
                conn, actor=actor, action="alert.rule.delete", target=rule_id,
                model_id=rule.model_id, before=rule_summary(rule), reason=reason, at=now,
            )  # fmt: skip
        return rule


def rule_summary(rule: AlertRule) -> dict[str, Any]:
    out = to_jsonable(rule)
    out.pop("created_at", None)
    out.pop("created_by", None)
    return out
