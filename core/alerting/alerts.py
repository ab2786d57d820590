"""The alert book: alerts, their history, and acknowledgements (an ack keeps the alert's
state but stops its repeated notifications)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from core import audit
from core.alerting import rows
from core.alerting.base import ManagerBase
from core.alerting.types import Alert, AlertStatus, Transition
from core.clock import as_utc
from core.errors import Conflict, IllegalTransition, InvalidInput
from storage.repos import alerts as repo


class AlertBook(ManagerBase):
    def get_alert(self, alert_id: str) -> Alert:
        with self.store.read() as conn:
            return rows.get_alert(conn, alert_id)

    def list_alerts(
        self,
        state: str | AlertStatus | None = None,
        model_id: str | None = None,
        *,
        rule_id: str | None = None,
        limit: int | None = None,
    ) -> list[Alert]:
        """Newest first. `state` is pending, firing, resolved, inactive, or `open`
        (pending and firing)."""
        states: list[str] | None = None
        if state is not None:
            if state == "open":
                states = [AlertStatus.PENDING.value, AlertStatus.FIRING.value]
            else:
                try:
                    states = [AlertStatus(state).value]
                except ValueError:
                    raise InvalidInput(
                        f"unknown alert state {state!r}: use pending, firing, resolved,"
                        " inactive or open"
                    ) from None
        if limit is not None and limit < 1:
            raise InvalidInput("limit must be at least 1")
        with self.store.read() as conn:
            found = repo.list_alerts(
                conn, states=states, model_id=model_id, rule_id=rule_id, limit=limit
            )
        return [rows.alert(r) for r in found]

    def history(
        self,
        alert_id: str | None = None,
        model_id: str | None = None,
        since: datetime | None = None,
        *,
        limit: int | None = None,
    ) -> list[Transition]:
        """State changes and acks, oldest first."""
        with self.store.read() as conn:
            found = repo.history(
                conn,
                alert_id=alert_id,
                model_id=model_id,
                since=None if since is None else as_utc(since),
                limit=limit,
            )
        return [rows.transition(r) for r in found]

    def ack(self, alert_id: str, comment: str, *, actor: str) -> Alert:
        """Acknowledge an open alert: it keeps its state but sends no more repeats."""
        # Checked although typed: callers outside the type checker may pass anything.
        if not isinstance(cast(object, comment), str) or not comment.strip():
            raise InvalidInput("an acknowledgement needs a comment, e.g. --comment 'looking'")
        comment = comment.strip()
        now = self.now()
        with self.store.write() as conn:
            alert = rows.get_alert(conn, alert_id)
            if not alert.state.open:
                raise IllegalTransition(
                    f"alert {alert_id} is {alert.state.value}: only a pending or firing alert"
                    " can be acknowledged"
                )
            if alert.acknowledged:
                raise Conflict(
                    f"alert {alert_id} was already acknowledged by {alert.acked_by}"
                    f" at {alert.acked_at:%Y-%m-%d %H:%M:%S}Z"
                )
            repo.update_alert(conn, alert_id, acked_at=now, acked_by=actor, ack_comment=comment)
            repo.insert_history(
                conn,
                {
                    "alert_id": alert_id, "rule_id": alert.rule_id, "model_id": alert.model_id,
                    "occurred_at": now, "kind": "ack", "from_state": alert.state.value,
                    "to_state": alert.state.value, "value": alert.value,
                    "samples": alert.samples, "actor": actor, "message": comment,
                },
            )  # fmt: skip
            audit.append(
                conn, actor=actor, action="alert.ack", target=alert_id, model_id=alert.model_id,
                after={"rule": alert.rule_id, "state": alert.state.value}, reason=comment, at=now,
            )  # fmt: skip
            return rows.get_alert(conn, alert_id)
