"""Evaluation: the alert state machine, per (rule, model), run by `evaluate(values)`:

    (none) --condition true, for_s > 0--> pending --true for >= for_s--> firing
    (none) --condition true, for_s = 0--> firing
    pending --condition false--> inactive          (closed, never notified)
    firing  --condition false--> resolved          (closed, "resolved" notification)

* `values(rule)` returns `(value, samples)` over the rule's window, or `None` for
  "insufficient data" (too few events, metric not computable). Insufficient data never opens
  or fires an alert, and it never closes one either: a pending alert stays pending (it can only
  fire on a later true observation) and a firing alert stays firing until data says it has
  resolved (unlike Prometheus, where a vanished series resolves; a model that stopped sending
  data is not "healthy again"). A NaN value counts as insufficient data; a `values` callback
  that raises is logged and counts as insufficient data for that rule only.
* One open (pending or firing) alert per rule and model: a condition that stays true updates
  it; once closed, the next true observation opens a new alert with a new id.
* Notifications: on firing, then every `repeat_s` while firing (0: never repeat) until
  acknowledged; on resolving if the firing was notified. A silenced alert still changes state
  and is recorded in history, but sends nothing; when the silence ends, a still-firing,
  never-notified alert notifies at the next evaluation.
* Every state change (and every ack) is appended to `alert_history`, in the same transaction.
* New `system_events` of severity warning/critical (id above a persisted cursor) are sent to the
  channels of every active rule whose metric is `event.<kind>` (for the event's model), or to
  the console when no rule routes them.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, cast

from core.alerting import rows
from core.alerting.notifications import alert_payload, event_payload
from core.alerting.outbox import Outbox
from core.alerting.types import AlertStatus, Silence, Transition
from core.domain import AlertRule
from storage.conn import Conn
from storage.repos import alerts as repo

if TYPE_CHECKING:
    from _typeshed import ConvertibleToFloat, ConvertibleToInt

log = logging.getLogger(__name__)

Observation = tuple[float | None, int] | None
Values = Callable[[AlertRule], Observation]

EVENT_CURSOR = "system_events"
NOTIFIED_EVENT_SEVERITIES = ("warning", "critical")
EVALUATOR = "evaluator"


class Evaluation(Outbox):
    """Evaluation enqueues what it notifies into the outbox, in the transaction that changes
    the alert's state."""

    _eval_lock: threading.Lock
    _listeners: list[Callable[[list[Transition]], None]]

    def evaluate(self, values: Values, *, deliver: bool = True) -> list[Transition]:
        """Evaluate every active rule once, route new system events, then (unless
        `deliver=False`) attempt due deliveries. Returns the state changes made."""
        with self._eval_lock:
            now = self.now()
            with self.store.read() as conn:
                rules = [rows.rule(r) for r in repo.list_rules(conn)]
            candidates = [r for r in rules if r.is_active and not r.is_event_rule]
            observed = {rule.id: _observe(values, rule) for rule in candidates}
            transitions: list[Transition] = []
            with self.store.write() as conn:
                silences = [rows.silence(r) for r in repo.list_silences(conn, active_at=now)]
                for rule in candidates:
                    current = repo.get_rule(conn, rule.id)
                    if current is None or not current["is_active"]:
                        continue  # deleted or disabled meanwhile
                    transitions += self._step(conn, rule, observed[rule.id], now, silences)
                self._route_system_events(conn, now, silences)
        if transitions:
            for listener in list(self._listeners):
                try:
                    listener(transitions)
                except Exception:  # a listener must never stop the evaluator
                    log.exception("an alert listener failed")
        if deliver:
            self.deliver_pending()
        return transitions

    def _step(
        self,
        conn: Conn,
        rule: AlertRule,
        obs: tuple[float, int | None] | None,
        now: datetime,
        silences: list[Silence],
    ) -> list[Transition]:
        row = repo.open_alert(conn, rule.id, rule.model_id)
        alert = rows.alert(row) if row is not None else None
        cond = None if obs is None else rule.comparison.compare(obs[0], rule.threshold)
        silenced = any(s.matches(rule.id, rule.model_id) for s in silences)
        value, samples = obs if obs is not None else (None, None)
        out: list[Transition] = []

        if alert is None:
            if not cond:
                return out
            alert_id = f"a{repo.next_number(conn, 'alert')}"
            state = AlertStatus.FIRING if rule.for_s == 0 else AlertStatus.PENDING
            repo.insert_alert(
                conn,
                {
                    "id": alert_id, "rule_id": rule.id, "model_id": rule.model_id,
                    "state": state.value, "value": value, "samples": samples,
                    "started_at": now, "fired_at": now if state is AlertStatus.FIRING else None,
                    "resolved_at": None, "updated_at": now, "last_notified_at": None,
                    "notifications": 0, "acked_at": None, "acked_by": None, "ack_comment": None,
                },
            )  # fmt: skip
            out.append(
                record(conn, alert_id, rule, AlertStatus.INACTIVE, state, now, obs,
                       _condition_text(rule, value, samples))
            )  # fmt: skip
            if state is AlertStatus.FIRING:
                self._maybe_notify(conn, rule, alert_id, now, silenced)
            return out

        if cond is None:  # insufficient data: keep the state (see the module docstring)
            if alert.state is AlertStatus.FIRING:
                self._maybe_notify(conn, rule, alert.id, now, silenced)
            return out

        if alert.state is AlertStatus.PENDING:
            if cond and (now - alert.started_at).total_seconds() >= rule.for_s:
                repo.update_alert(
                    conn, alert.id, state=AlertStatus.FIRING.value, fired_at=now,
                    value=value, samples=samples, updated_at=now,
                )  # fmt: skip
                out.append(
                    record(conn, alert.id, rule, alert.state, AlertStatus.FIRING, now, obs,
                           _condition_text(rule, value, samples) + f" for {rule.for_s}s")
                )  # fmt: skip
                self._maybe_notify(conn, rule, alert.id, now, silenced)
            elif cond:
                repo.update_alert(conn, alert.id, value=value, samples=samples, updated_at=now)
            else:
                repo.update_alert(
                    conn, alert.id, state=AlertStatus.INACTIVE.value, resolved_at=now,
                    value=value, samples=samples, updated_at=now,
                )  # fmt: skip
                out.append(
                    record(conn, alert.id, rule, alert.state, AlertStatus.INACTIVE, now, obs,
                           "condition cleared before the for-duration: "
                           + _condition_text(rule, value, samples))
                )  # fmt: skip
            return out

        # firing
        if cond:
            repo.update_alert(conn, alert.id, value=value, samples=samples, updated_at=now)
            self._maybe_notify(conn, rule, alert.id, now, silenced)
            return out
        repo.update_alert(
            conn, alert.id, state=AlertStatus.RESOLVED.value, resolved_at=now,
            value=value, samples=samples, updated_at=now,
        )  # fmt: skip
        out.append(
            record(conn, alert.id, rule, alert.state, AlertStatus.RESOLVED, now, obs,
                   "resolved: " + _condition_text(rule, value, samples))
        )  # fmt: skip
        if alert.last_notified_at is not None and not silenced:
            resolved = rows.get_alert(conn, alert.id)
            self._enqueue(conn, rule.notification_channels, "resolved",
                          alert_payload(resolved, rule, "resolved"), now, alert_id=alert.id)  # fmt: skip
        return out

    def _maybe_notify(
        self, conn: Conn, rule: AlertRule, alert_id: str, now: datetime, silenced: bool
    ) -> None:
        alert = rows.get_alert(conn, alert_id)
        if alert.state is not AlertStatus.FIRING or alert.acknowledged or silenced:
            return
        if alert.last_notified_at is None:
            kind = "firing"
        elif rule.repeat_s > 0 and (now - alert.last_notified_at).total_seconds() >= rule.repeat_s:
            kind = "repeat"
        else:
            return
        self._enqueue(
            conn, rule.notification_channels, kind, alert_payload(alert, rule, kind), now,
            alert_id=alert_id,
        )  # fmt: skip
        repo.update_alert(
            conn, alert_id, last_notified_at=now, notifications=alert.notifications + 1
        )

    def _route_system_events(self, conn: Conn, now: datetime, silences: list[Silence]) -> None:
        cursor = repo.get_cursor(conn, EVENT_CURSOR)
        events = repo.system_events_after(conn, cursor)
        if not events:
            return
        event_rules = [
            r for r in (rows.rule(x) for x in repo.list_rules(conn, active_only=True))
            if r.is_event_rule
        ]  # fmt: skip
        for ev in events:
            cursor = max(cursor, int(ev["id"]))
            if ev["severity"] not in NOTIFIED_EVENT_SEVERITIES:
                continue
            metric = f"event.{ev['kind']}"
            model = ev["model_id"]
            routed = [
                r for r in event_rules
                if r.metric_name == metric and (model is None or r.model_id == model)
            ]  # fmt: skip
            if routed:
                silenced = all(any(s.matches(r.id, model) for s in silences) for r in routed)
                channels: list[str] = []
                for r in routed:
                    channels += [c for c in r.notification_channels if c not in channels]
            else:
                silenced = any(s.rule_id is None and s.matches(None, model) for s in silences)
                channels = ["console"]
            if silenced:
                continue
            self._enqueue(conn, channels, "event", event_payload(ev, metric, routed), now,
                          event_id=int(ev["id"]))  # fmt: skip
        repo.set_cursor(conn, EVENT_CURSOR, cursor)


def record(
    conn: Conn,
    alert_id: str,
    rule: AlertRule,
    from_state: AlertStatus,
    to_state: AlertStatus,
    now: datetime,
    obs: tuple[float, int | None] | None,
    message: str,
    actor: str = EVALUATOR,
) -> Transition:
    value, samples = obs if obs is not None else (None, None)
    row = {
        "alert_id": alert_id,
        "rule_id": rule.id,
        "model_id": rule.model_id,
        "occurred_at": now,
        "kind": "state",
        "from_state": from_state.value,
        "to_state": to_state.value,
        "value": value,
        "samples": samples,
        "actor": actor,
        "message": message,
    }
    row["id"] = repo.insert_history(conn, row)
    return rows.transition(row)


def close_open_alerts(conn: Conn, rule: AlertRule, now: datetime, actor: str, why: str) -> None:
    for row in repo.open_alerts_of_rule(conn, rule.id):
        alert = rows.alert(row)
        to = AlertStatus.RESOLVED if alert.state is AlertStatus.FIRING else AlertStatus.INACTIVE
        repo.update_alert(conn, alert.id, state=to.value, resolved_at=now, updated_at=now)
        obs = None if alert.value is None else (alert.value, alert.samples)
        record(conn, alert.id, rule, alert.state, to, now, obs, why, actor=actor)


def _observe(values: Values, rule: AlertRule) -> tuple[float, int | None] | None:
    try:
        # Wider than `Observation`: a hand-written callable may return a bare number or a list.
        got = cast(object, values(rule))
    except Exception:
        log.exception("computing %s for rule %s failed: treated as insufficient data",
                      rule.metric_name, rule.id)  # fmt: skip
        return None
    if got is None:
        return None
    if isinstance(got, tuple | list):
        seq = cast("Sequence[object]", got)
        value = seq[0] if len(seq) > 0 else None
        samples = seq[1] if len(seq) > 1 else None
    else:
        value, samples = got, None
    if value is None or isinstance(value, bool):
        return None
    try:  # whatever float() takes; anything else is no observation
        number = float(cast("ConvertibleToFloat", value))
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return number, None if samples is None else int(cast("ConvertibleToInt", samples))


def _condition_text(rule: AlertRule, value: float | None, samples: int | None) -> str:
    shown = "no data" if value is None else f"{value:.6g}"
    text = f"{rule.metric_name} = {shown} (threshold {rule.comparison.value} {rule.threshold:g})"
    return text + (f" over {samples} samples" if samples is not None else "")
