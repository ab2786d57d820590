"""The `AlertManager`: alert rules, the alert state machine, acknowledgements, silences,
system-event routing and an at-least-once notification outbox.

State machine, per (rule, model), evaluated by `evaluate(values)`:

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
* Deliveries go to an outbox (`alert_deliveries`), one row per notification and channel;
  each channel is delivered in order (FIFO: a failing row holds back its channel's later rows,
  never another channel's). `deliver_pending()` attempts what is due, records success, or
  schedules a retry with
  exponential backoff (`backoff_base_s * 2**(attempts-1)`, capped at `backoff_max_s`) and gives
  up after `max_attempts`. It never raises. A crash between a send and its bookkeeping resends:
  delivery is at least once, and each payload carries `notification_id` to dedupe on.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from core import audit
from core.alerting import checks as check
from core.alerting.channels import ChannelError, Channels
from core.alerting.types import (
    Alert,
    AlertStatus,
    Delivery,
    DeliveryReport,
    Rule,
    Silence,
    Transition,
)
from core.clock import as_utc, utcnow
from core.domain import ComparisonOperator, Severity
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from core.jsonable import canonical_json, to_jsonable
from core.periodic import Periodic, Wakeups
from storage.conn import Conn
from storage.repos import alerts as repo
from storage.repos import models as models_repo
from storage.store import Store

log = logging.getLogger(__name__)

Observation = tuple[float | None, int] | None
Values = Callable[[Rule], Observation]

EVENT_CURSOR = "system_events"
NOTIFIED_EVENT_SEVERITIES = ("warning", "critical")
EVALUATOR = "evaluator"


class AlertManager:
    def __init__(
        self,
        store: Store,
        *,
        now: Callable[[], datetime] = utcnow,
        channels: Channels | None = None,
        backoff_base_s: float = 5.0,
        backoff_max_s: float = 600.0,
        max_attempts: int = 10,
        delivery_batch: int = 100,
    ) -> None:
        self.store = store
        self._now = now
        self.channels = channels or Channels()
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_attempts = max_attempts
        self.delivery_batch = delivery_batch
        self._eval_lock = threading.Lock()
        self._deliver_lock = threading.Lock()
        self._wakeups = Wakeups()
        """Delivery passes skip the store while nothing is queued, until more is committed:
        a read every 2 s cost ~2.5 ms of CPU beside the requests being served."""
        self._loops: list[Periodic] = []
        self._listeners: list[Callable[[list[Transition]], None]] = []

    def subscribe(self, listener: Callable[[list[Transition]], None]) -> None:
        """Called after each evaluation that changed something (retrain policies listen)."""
        self._listeners.append(listener)

    def now(self) -> datetime:
        return as_utc(self._now())

    @property
    def console(self) -> Any:
        """The console channel's ring buffer (`recent(n)`), for the TUI."""
        return self.channels.console

    def close(self) -> None:
        self.stop_loop()
        self.channels.close()

    # --- the owner's loops ---------------------------------------------------------------

    def start_loop(
        self, values: Values, *, every_s: float = 15.0, deliver_every_s: float = 2.0
    ) -> None:
        """Run `evaluate(values, deliver=False)` every `every_s` and `deliver_pending()` every
        `deliver_every_s`, in two daemon threads, so a slow webhook never delays evaluation.
        Nothing raised in either loop stops it (it is logged)."""
        if self._loops:
            return
        self._loops = [
            Periodic("mlc-alerts-eval", lambda: self.evaluate(values, deliver=False), every_s),
            Periodic("mlc-alerts-deliver", self.deliver_pending, deliver_every_s),
        ]
        for loop in self._loops:
            loop.start()

    def stop_loop(self) -> None:
        for loop in self._loops:
            loop.stop()
        self._loops = []

    # --- rules ---------------------------------------------------------------------------

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
    ) -> Rule:
        metric_name = check.metric(metric)
        op = check.comparison(comparison)
        thr = check.threshold(threshold)
        window = check.duration(window_s, "window", minimum=1)
        for_ = check.duration(for_s, "for-duration")
        repeat = check.duration(repeat_s, "repeat interval")
        sev = check.severity(severity)
        chans = check.channels(["console"] if channels is None else channels)
        if not isinstance(is_active, bool):
            raise InvalidInput(f"is_active must be true or false, not {is_active!r}")
        now = self.now()
        with self.store.write() as conn:
            _require_model(conn, model_id)
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
            rule = _rule(row)
            audit.append(
                conn, actor=actor, action="alert.rule.create", target=rule_id, model_id=model_id,
                after=_rule_summary(rule), at=now,
            )  # fmt: skip
        return rule

    def get_rule(self, rule_id: str) -> Rule:
        with self.store.read() as conn:
            return self._get_rule(conn, rule_id)

    def list_rules(self, model_id: str | None = None) -> list[Rule]:
        with self.store.read() as conn:
            return [_rule(r) for r in repo.list_rules(conn, model_id)]

    def set_active(self, rule_id: str, active: bool, *, actor: str, reason: str = "") -> Rule:
        """Enable or disable a rule. Disabling closes its open alerts (no notification)."""
        if not isinstance(active, bool):
            raise InvalidInput(f"active must be true or false, not {active!r}")
        now = self.now()
        with self.store.write() as conn:
            rule = self._get_rule(conn, rule_id)
            if rule.is_active == active:
                return rule
            repo.update_rule(conn, rule_id, is_active=active)
            if not active:
                self._close_open_alerts(conn, rule, now, actor, "rule disabled")
            audit.append(
                conn, actor=actor, action=f"alert.rule.{'enable' if active else 'disable'}",
                target=rule_id, model_id=rule.model_id, before={"is_active": rule.is_active},
                after={"is_active": active}, reason=reason, at=now,
            )  # fmt: skip
            rule.is_active = active
        return rule

    def delete_rule(self, rule_id: str, *, actor: str, reason: str = "") -> Rule:
        """Delete a rule (its alerts and history are kept). Its open alerts are closed."""
        now = self.now()
        with self.store.write() as conn:
            rule = self._get_rule(conn, rule_id)
            self._close_open_alerts(conn, rule, now, actor, "rule deleted")
            repo.update_rule(conn, rule_id, deleted_at=now, deleted_by=actor, is_active=False)
            audit.append(
                conn, actor=actor, action="alert.rule.delete", target=rule_id,
                model_id=rule.model_id, before=_rule_summary(rule), reason=reason, at=now,
            )  # fmt: skip
        return rule

    # --- alerts --------------------------------------------------------------------------

    def get_alert(self, alert_id: str) -> Alert:
        with self.store.read() as conn:
            return self._get_alert(conn, alert_id)

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
            rows = repo.list_alerts(
                conn, states=states, model_id=model_id, rule_id=rule_id, limit=limit
            )
        return [_alert(r) for r in rows]

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
            rows = repo.history(
                conn,
                alert_id=alert_id,
                model_id=model_id,
                since=None if since is None else as_utc(since),
                limit=limit,
            )
        return [_transition(r) for r in rows]

    def ack(self, alert_id: str, comment: str, *, actor: str) -> Alert:
        """Acknowledge an open alert: it keeps its state but sends no more repeats."""
        if not isinstance(comment, str) or not comment.strip():
            raise InvalidInput("an acknowledgement needs a comment, e.g. --comment 'looking'")
        comment = comment.strip()
        now = self.now()
        with self.store.write() as conn:
            alert = self._get_alert(conn, alert_id)
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
            return self._get_alert(conn, alert_id)

    # --- silences ------------------------------------------------------------------------

    def silence(
        self,
        *,
        rule_id: str | None = None,
        model_id: str | None = None,
        duration_s: float,
        comment: str = "",
        actor: str,
    ) -> Silence:
        """Mute notifications of a rule, a model, or a rule on a model, for `duration_s`."""
        if rule_id is None and model_id is None:
            raise InvalidInput("a silence needs a rule or a model (or both)")
        if isinstance(duration_s, bool) or not isinstance(duration_s, int | float):
            raise InvalidInput(f"silence duration must be a number of seconds, not {duration_s!r}")
        if not math.isfinite(duration_s) or duration_s <= 0 or duration_s > 366 * 86400:
            raise InvalidInput(
                f"silence duration must be positive and at most a year, not {duration_s!r}"
            )
        now = self.now()
        with self.store.write() as conn:
            if rule_id is not None:
                rule = self._get_rule(conn, rule_id)
                if model_id is not None and model_id != rule.model_id:
                    raise InvalidInput(f"rule {rule_id} watches {rule.model_id}, not {model_id}")
            if model_id is not None:
                _require_model(conn, model_id)
            silence_id = f"s{repo.next_number(conn, 'silence')}"
            row = {
                "id": silence_id,
                "rule_id": rule_id,
                "model_id": model_id,
                "starts_at": now,
                "ends_at": now + timedelta(seconds=float(duration_s)),
                "comment": comment,
                "created_by": actor,
                "created_at": now,
            }
            repo.insert_silence(conn, row)
            silence = _silence(row)
            audit.append(
                conn, actor=actor, action="alert.silence", target=silence_id,
                model_id=model_id or (rule.model_id if rule_id is not None else None),
                after=to_jsonable(silence), reason=comment, at=now,
            )  # fmt: skip
        return silence

    def list_silences(self, *, active_only: bool = False) -> list[Silence]:
        with self.store.read() as conn:
            rows = repo.list_silences(conn, active_at=self.now() if active_only else None)
        return [_silence(r) for r in rows]

    def expire_silence(self, silence_id: str, *, actor: str, reason: str = "") -> Silence:
        now = self.now()
        with self.store.write() as conn:
            row = repo.get_silence(conn, silence_id)
            if row is None:
                raise NotFound(f"silence {silence_id!r} not found")
            silence = _silence(row)
            if not silence.active_at(now) and silence.starts_at <= now:
                raise IllegalTransition(f"silence {silence_id} has already ended")
            repo.end_silence(conn, silence_id, now, actor)
            audit.append(
                conn, actor=actor, action="alert.silence.expire", target=silence_id,
                model_id=silence.model_id, before={"ends_at": silence.ends_at},
                after={"ends_at": now}, reason=reason, at=now,
            )  # fmt: skip
            return _silence(repo.get_silence(conn, silence_id) or row)

    # --- evaluation ----------------------------------------------------------------------

    def evaluate(self, values: Values, *, deliver: bool = True) -> list[Transition]:
        """Evaluate every active rule once, route new system events, then (unless
        `deliver=False`) attempt due deliveries. Returns the state changes made."""
        with self._eval_lock:
            now = self.now()
            candidates = [r for r in self.list_rules() if r.is_active and not r.is_event_rule]
            observed = {rule.id: _observe(values, rule) for rule in candidates}
            transitions: list[Transition] = []
            with self.store.write() as conn:
                silences = [_silence(r) for r in repo.list_silences(conn, active_at=now)]
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
        rule: Rule,
        obs: tuple[float, int | None] | None,
        now: datetime,
        silences: list[Silence],
    ) -> list[Transition]:
        row = repo.open_alert(conn, rule.id, rule.model_id)
        alert = _alert(row) if row is not None else None
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
                self._record(conn, alert_id, rule, AlertStatus.INACTIVE, state, now, obs,
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
                    self._record(conn, alert.id, rule, alert.state, AlertStatus.FIRING, now, obs,
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
                    self._record(conn, alert.id, rule, alert.state, AlertStatus.INACTIVE, now, obs,
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
            self._record(conn, alert.id, rule, alert.state, AlertStatus.RESOLVED, now, obs,
                         "resolved: " + _condition_text(rule, value, samples))
        )  # fmt: skip
        if alert.last_notified_at is not None and not silenced:
            resolved = self._get_alert(conn, alert.id)
            self._enqueue(conn, rule.notification_channels, "resolved",
                          _payload(resolved, rule, "resolved"), now, alert_id=alert.id)  # fmt: skip
        return out

    def _maybe_notify(
        self, conn: Conn, rule: Rule, alert_id: str, now: datetime, silenced: bool
    ) -> None:
        alert = self._get_alert(conn, alert_id)
        if alert.state is not AlertStatus.FIRING or alert.acknowledged or silenced:
            return
        if alert.last_notified_at is None:
            kind = "firing"
        elif rule.repeat_s > 0 and (now - alert.last_notified_at).total_seconds() >= rule.repeat_s:
            kind = "repeat"
        else:
            return
        self._enqueue(
            conn, rule.notification_channels, kind, _payload(alert, rule, kind), now,
            alert_id=alert_id,
        )  # fmt: skip
        repo.update_alert(
            conn, alert_id, last_notified_at=now, notifications=alert.notifications + 1
        )

    def _record(
        self,
        conn: Conn,
        alert_id: str,
        rule: Rule,
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
        return _transition(row)

    def _close_open_alerts(
        self, conn: Conn, rule: Rule, now: datetime, actor: str, why: str
    ) -> None:
        for row in repo.open_alerts_of_rule(conn, rule.id):
            alert = _alert(row)
            to = AlertStatus.RESOLVED if alert.state is AlertStatus.FIRING else AlertStatus.INACTIVE
            repo.update_alert(conn, alert.id, state=to.value, resolved_at=now, updated_at=now)
            obs = None if alert.value is None else (alert.value, alert.samples)
            self._record(conn, alert.id, rule, alert.state, to, now, obs, why, actor=actor)

    # --- system events -------------------------------------------------------------------

    def _route_system_events(self, conn: Conn, now: datetime, silences: list[Silence]) -> None:
        cursor = repo.get_cursor(conn, EVENT_CURSOR)
        events = repo.system_events_after(conn, cursor)
        if not events:
            return
        event_rules = [
            r for r in (_rule(x) for x in repo.list_rules(conn, active_only=True))
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
            self._enqueue(conn, channels, "event", _event_payload(ev, metric, routed), now,
                          event_id=int(ev["id"]))  # fmt: skip
        repo.set_cursor(conn, EVENT_CURSOR, cursor)

    # --- deliveries ----------------------------------------------------------------------

    def _enqueue(
        self,
        conn: Conn,
        channels: list[str],
        kind: str,
        payload: dict[str, Any],
        now: datetime,
        *,
        alert_id: str | None = None,
        event_id: int | None = None,
    ) -> None:
        body = canonical_json(payload)
        if channels:
            conn.committed.append(self._wakeups.added)
        for channel in channels:
            repo.insert_delivery(
                conn,
                {
                    "alert_id": alert_id, "event_id": event_id, "channel": channel,
                    "kind": kind, "payload": body, "created_at": now, "next_attempt_at": now,
                },
            )  # fmt: skip

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return min(self.backoff_base_s * 2 ** max(attempts - 1, 0), self.backoff_max_s)

    def deliver_pending(self) -> DeliveryReport:
        """Attempt every delivery that is due now. Never raises."""
        with self._deliver_lock:
            try:
                return self._deliver_pending()
            except Exception as e:  # the evaluator loop must survive anything here
                log.exception("alert delivery failed")
                return DeliveryReport(errors=[f"{type(e).__name__}: {e}".splitlines()[0]])

    def _deliver_pending(self) -> DeliveryReport:
        now = self.now()
        if (token := self._wakeups.look()) is None:
            return DeliveryReport()
        with self.store.read() as conn:
            queued = repo.queued_deliveries(conn, self.delivery_batch)
        if not queued:
            self._wakeups.found_nothing(token)
        # Each channel is a FIFO queue: a row waiting for its retry (or failing now) holds back
        # the later rows of its channel, so a receiver never sees "resolved" before "firing",
        # and a dead endpoint costs one timeout per pass, not one per queued notification.
        blocked: set[str] = set()
        results: list[tuple[dict[str, Any], str | None]] = []
        for row in queued:
            channel = row["channel"]
            if channel in blocked:
                continue
            if as_utc(row["next_attempt_at"]) > now:
                blocked.add(channel)
                continue
            payload = json.loads(row["payload"])
            payload["notification_id"] = int(row["id"])
            try:
                self.channels.send(channel, payload)
                results.append((row, None))
            except ChannelError as e:
                results.append((row, str(e) or type(e).__name__))
                blocked.add(channel)
        if not results:
            return DeliveryReport()
        done = self.now()
        delivered = failed = gave_up = 0
        errors: list[str] = []
        with self.store.write() as conn:
            for row, error in results:
                attempts = int(row["attempts"]) + 1
                if error is None:
                    repo.update_delivery(conn, row["id"], attempts=attempts, delivered_at=done)
                    delivered += 1
                    continue
                errors.append(f"{row['channel']}: {error}")
                if attempts >= self.max_attempts:
                    repo.update_delivery(
                        conn, row["id"], attempts=attempts, gave_up_at=done, last_error=error
                    )
                    gave_up += 1
                    log.warning("giving up on %s after %d attempts: %s",
                                row["channel"], attempts, error)  # fmt: skip
                else:
                    repo.update_delivery(
                        conn, row["id"], attempts=attempts, last_error=error,
                        next_attempt_at=done + timedelta(seconds=self.backoff(attempts)),
                    )  # fmt: skip
                    failed += 1
        return DeliveryReport(len(results), delivered, failed, gave_up, errors)

    def deliveries(
        self,
        alert_id: str | None = None,
        *,
        undelivered_only: bool = False,
        limit: int | None = None,
    ) -> list[Delivery]:
        with self.store.read() as conn:
            rows = repo.list_deliveries(
                conn, alert_id=alert_id, undelivered_only=undelivered_only, limit=limit
            )
        return [_delivery(r) for r in rows]

    # --- helpers -------------------------------------------------------------------------

    def _get_rule(self, conn: Conn, rule_id: str) -> Rule:
        row = repo.get_rule(conn, rule_id)
        if row is None:
            raise NotFound(f"alert rule {rule_id!r} not found")
        return _rule(row)

    def _get_alert(self, conn: Conn, alert_id: str) -> Alert:
        row = repo.get_alert(conn, alert_id)
        if row is None:
            raise NotFound(f"alert {alert_id!r} not found")
        return _alert(row)


# --- module helpers -------------------------------------------------------------------------


def _require_model(conn: Conn, model_id: str) -> None:
    if not isinstance(model_id, str) or models_repo.get(conn, model_id) is None:
        raise NotFound(f"model {model_id!r} not found")


def _observe(values: Values, rule: Rule) -> tuple[float, int | None] | None:
    try:
        got: Any = values(rule)
    except Exception:
        log.exception("computing %s for rule %s failed: treated as insufficient data",
                      rule.metric_name, rule.id)  # fmt: skip
        return None
    if got is None:
        return None
    if isinstance(got, tuple | list):
        value = got[0] if len(got) > 0 else None
        samples = got[1] if len(got) > 1 else None
    else:
        value, samples = got, None
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return number, None if samples is None else int(samples)


def _condition_text(rule: Rule, value: float | None, samples: int | None) -> str:
    shown = "no data" if value is None else f"{value:.6g}"
    text = f"{rule.metric_name} = {shown} (threshold {rule.comparison.value} {rule.threshold:g})"
    return text + (f" over {samples} samples" if samples is not None else "")


def _iso(when: datetime | None) -> str | None:
    return None if when is None else as_utc(when).isoformat()


def _payload(alert: Alert, rule: Rule, kind: str) -> dict[str, Any]:
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


def _event_payload(ev: dict[str, Any], metric: str, routed: list[Rule]) -> dict[str, Any]:
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


def _rule_summary(rule: Rule) -> dict[str, Any]:
    out = to_jsonable(rule)
    out.pop("created_at", None)
    out.pop("created_by", None)
    return out


def _maybe_dt(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _rule(row: dict[str, Any]) -> Rule:
    channels = row["channels"]
    return Rule(
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


def _alert(row: dict[str, Any]) -> Alert:
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


def _transition(row: dict[str, Any]) -> Transition:
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


def _silence(row: dict[str, Any]) -> Silence:
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


def _delivery(row: dict[str, Any]) -> Delivery:
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
