"""Alerts: firing first, then pending and resolved; the selected alert's history below; and
the rules behind them (`tab`). Acknowledge, silence and enable/disable from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import DataTable, Static

from app.tui import fmt
from app.tui.actions import alerts as alert_actions
from app.tui.actions.alerts import rule_text
from app.tui.screens.base import ResourceScreen
from app.tui.widgets.resource_table import ResourceTable
from app.tui.widgets.safe_static import SafeStatic
from core.alerting.types import Alert, Silence, Transition
from core.clock import as_utc
from core.domain import AlertRule, AlertState
from core.timeparse import duration_text

Mode = Literal["alerts", "rules"]
StateFilter = Literal["all", "firing", "pending", "resolved"]

ALERT_COLUMNS = ("STATE", "MODEL", "RULE", "SEVERITY", "VALUE", "SINCE", "ACK / SILENCE")
# ACTIVE early: it is what `space` changes, and it must show at 80 columns.
RULE_COLUMNS = ("ID", "ACTIVE", "MODEL", "METRIC", "CMP", "THRESHOLD", "WINDOW", "FOR",
                "SEVERITY", "CHANNELS")  # fmt: skip
ORDER = {AlertState.FIRING: 0, AlertState.PENDING: 1, AlertState.RESOLVED: 2}
STATE_STYLE = {AlertState.FIRING: "bold red", AlertState.PENDING: "bold yellow"}
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow"}


@dataclass(frozen=True)
class AlertsData:
    alerts: list[Alert]
    rules: list[AlertRule]
    silences: list[Silence]
    """Active now."""
    history_for: str | None = None
    history: list[Transition] = field(default_factory=list)


def state_cell(state: AlertState) -> Text:
    # Open states in capitals, so they stand out without colour.
    word = state.upper() if state.open else str(state)
    return Text(word, style=STATE_STYLE.get(state, "dim"))


def since(alert: Alert) -> datetime:
    if alert.state is AlertState.FIRING and alert.fired_at is not None:
        return alert.fired_at
    if not alert.state.open and alert.resolved_at is not None:
        return alert.resolved_at
    return alert.started_at


def silenced_by(alert: Alert | AlertRule, silences: list[Silence]) -> Silence | None:
    rule_id = alert.rule_id if isinstance(alert, Alert) else alert.id
    return next((s for s in silences if s.matches(rule_id, alert.model_id)), None)


def ack_cell(alert: Alert, silences: list[Silence]) -> Text:
    if alert.acknowledged:
        return Text(f"{alert.acked_by}: {alert.ack_comment}")
    muted = silenced_by(alert, silences) if alert.state.open else None
    if muted is not None:
        return Text(f"silenced until {fmt.clock(muted.ends_at)[11:16]}", style="dim")
    return Text("—", style="dim")


def history_text(alert: Alert, rule: AlertRule | None, history: list[Transition]) -> Text:
    text = Text()
    text.append(f"{alert.id}", style="bold")
    text.append(f"  rule {alert.rule_id}: {rule_text(alert)}")
    if rule is not None:
        text.append(f" over {duration_text(rule.window_s)}, for {duration_text(rule.for_s)}")
        text.append(f" → {', '.join(rule.notification_channels) or 'no channel'}")
    for t in reversed(history):
        text.append(f"\n{fmt.clock(t.at)}  ")
        if t.kind == "ack":
            text.append(f"acknowledged by {t.actor}: {t.message}")
            continue
        text.append(f"{t.from_state} → {t.to_state}", style=STATE_STYLE.get(t.to_state, ""))
        if t.message:  # the evaluator's words: value, threshold and samples
            text.append(f"  {t.message}")
        elif t.value is not None:
            text.append(f"  value {t.value:.4g}")
    if not history:
        text.append("\nloading history…", style="dim")
    return text


def silences_text(silences: list[Silence]) -> Text:
    if not silences:
        return Text("no active silences · x silences the selected rule or its model", style="dim")
    text = Text("active silences", style="bold")
    for s in silences:
        what = f"rule {s.rule_id}" if s.rule_id else f"model {s.model_id}"
        text.append(f"\n{s.id}  {what} until {fmt.clock(s.ends_at)} by {s.created_by}")
        if s.comment:
            text.append(f": {s.comment}")
    return text


class AlertsScreen(ResourceScreen):
    CRUMB = "alerts"
    REFRESH_S = 2.0
    """A new firing alert shows within a couple of seconds."""
    MUTATING = frozenset({"ack", "silence", "toggle_rule"})
    BINDINGS: ClassVar = [
        Binding("f", "state('firing')", "Firing", id="alerts.firing",
                tooltip="Show firing alerts only", show=False),
        Binding("p", "state('pending')", "Pending", id="alerts.pending",
                tooltip="Show pending alerts only", show=False),
        Binding("r", "state('resolved')", "Resolved", id="alerts.resolved",
                tooltip="Show resolved alerts only", show=False),
        Binding("a", "state('all')", "All", id="alerts.all",
                tooltip="Show every alert, firing first", show=False),
        Binding("k", "ack", "Ack", id="alerts.ack", tooltip="Acknowledge with a comment"),
        Binding("x", "silence", "Silence", id="alerts.silence",
                tooltip="Silence the rule or its model for a while"),
        Binding("space", "toggle_rule", "On/off", id="alerts.toggle",
                tooltip="Enable or disable the rule"),
        Binding("tab,u", "rules", "Rules", id="alerts.rules",
                tooltip="Switch between the alerts and their rules"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.mode: Mode = "alerts"
        self.state_filter: StateFilter = "all"
        self._history_for: str | None = None
        self._history_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield SafeStatic("", id="alerts-states", markup=False)
        yield ResourceTable(id="alerts-table")
        rules = ResourceTable(id="alerts-rules")
        rules.display = False
        yield rules
        yield SafeStatic("", id="alerts-detail", markup=False)

    def context(self) -> str:
        data: AlertsData | None = self.last_data
        if data is None:
            return ""
        firing = sum(1 for a in data.alerts if a.state is AlertState.FIRING)
        return f"{firing} firing · {len(data.rules)} rules"

    # --- data -------------------------------------------------------------------------------

    def fetch(self) -> AlertsData:
        engine = self.engine
        alerts = {a.id: a for a in engine.list_alerts(limit=200)}
        alerts.update({a.id: a for a in engine.list_alerts(state="open")})
        history_for = self._history_for
        history = [] if history_for is None else engine.alert_history(alert_id=history_for)
        return AlertsData(
            alerts=list(alerts.values()),
            rules=engine.list_alert_rules(),
            silences=engine.list_silences(active_only=True),
            history_for=history_for,
            history=history,
        )

    def shown_alerts(self, data: AlertsData) -> list[Alert]:
        wanted = [
            a for a in data.alerts if self.state_filter == "all" or a.state == self.state_filter
        ]
        wanted.sort(key=lambda a: as_utc(since(a)), reverse=True)
        wanted.sort(key=lambda a: ORDER.get(a.state, 3))
        return wanted

    def show(self, data: AlertsData) -> None:
        self._show_states(data)
        if self.mode == "alerts":
            self._show_alerts(data)
        else:
            self._show_rules(data)

    def _show_states(self, data: AlertsData) -> None:
        counts = {s: sum(1 for a in data.alerts if a.state == s) for s in ORDER}
        if self.mode == "rules":
            active = sum(1 for r in data.rules if r.is_active)
            text = f"rules: {active} active of {len(data.rules)} · space on/off · tab alerts"
        else:
            parts = [
                f"{key} {state} {counts[AlertState(state)]}"
                for key, state in (("f", "firing"), ("p", "pending"), ("r", "resolved"))
            ]
            shown = "all, firing first" if self.state_filter == "all" else self.state_filter
            text = f"showing {shown}  ·  " + " · ".join(parts) + f" · a all {len(data.alerts)}"
        self.query_one("#alerts-states", Static).update(text)

    def _show_alerts(self, data: AlertsData) -> None:
        rows = []
        for a in self.shown_alerts(data):
            cells = (
                state_cell(a.state),
                a.model_id,
                rule_text(a),
                Text(str(a.severity).upper(), style=SEVERITY_STYLE.get(a.severity, "")),
                fmt.num(a.value, 3) if a.value is not None else "—",
                fmt.ago(since(a)),
                ack_cell(a, data.silences),
            )
            if self.matches(*cells, a.id, a.rule_id):
                rows.append((a.id, cells))
        table = self.query_one("#alerts-table", ResourceTable)
        table.replace(ALERT_COLUMNS, rows)
        self._show_history(data)

    def _show_history(self, data: AlertsData) -> None:
        detail = self.query_one("#alerts-detail", Static)
        alert = self.selected_alert()
        if alert is None:
            empty = "no alerts" if not data.alerts else "no alert in this state"
            detail.update(Text(empty, style="dim"))
            return
        if alert.id != data.history_for:
            self._want_history(alert.id)
        history = data.history if alert.id == data.history_for else []
        rule = next((r for r in data.rules if r.id == alert.rule_id), None)
        detail.update(history_text(alert, rule, history))

    def _show_rules(self, data: AlertsData) -> None:
        rows = []
        for r in data.rules:
            cells = (
                r.id,
                Text("yes") if r.is_active else Text("NO", style="bold yellow"),
                r.model_id,
                r.metric_name,
                r.comparison.value,
                f"{r.threshold:g}",
                duration_text(r.window_s),
                duration_text(r.for_s),
                Text(str(r.severity).upper(), style=SEVERITY_STYLE.get(r.severity, "")),
                ",".join(r.notification_channels),
            )
            if self.matches(*cells):
                rows.append((r.id, cells))
        self.query_one("#alerts-rules", ResourceTable).replace(RULE_COLUMNS, rows)
        self.query_one("#alerts-detail", Static).update(silences_text(data.silences))

    def _want_history(self, alert_id: str) -> None:
        """Load the history of the alert under the cursor, once the cursor rests on it."""
        self._history_for = alert_id
        if self._history_timer is not None:
            self._history_timer.stop()
        self._history_timer = self.set_timer(0.15, self.poll_now)

    @on(DataTable.RowHighlighted, "#alerts-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.last_data is not None and self.mode == "alerts":
            self._show_history(self.last_data)

    # --- selection --------------------------------------------------------------------------

    def selected_alert(self) -> Alert | None:
        data: AlertsData | None = self.last_data
        key = self.query_one("#alerts-table", ResourceTable).selected_key
        if data is None or key is None:
            return None
        return next((a for a in data.alerts if a.id == key), None)

    def selected_rule(self) -> AlertRule | None:
        data: AlertsData | None = self.last_data
        if data is None:
            return None
        if self.mode == "rules":
            key = self.query_one("#alerts-rules", ResourceTable).selected_key
        else:
            alert = self.selected_alert()
            key = alert.rule_id if alert else None
        return next((r for r in data.rules if r.id == key), None)

    def selected_model(self) -> str | None:
        rule = self.selected_rule()
        return rule.model_id if rule else None

    # --- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action in ("ack", "state"):
            return self.mode == "alerts"
        if action == "toggle_rule":
            return self.mode == "rules"
        return True

    def action_state(self, state: StateFilter) -> None:
        self.state_filter = state
        self.refilter()

    def action_rules(self) -> None:
        self.mode = "rules" if self.mode == "alerts" else "alerts"
        alerts = self.query_one("#alerts-table", ResourceTable)
        rules = self.query_one("#alerts-rules", ResourceTable)
        alerts.display = self.mode == "alerts"
        rules.display = self.mode == "rules"
        (rules if self.mode == "rules" else alerts).focus()
        self.refresh_bindings()
        self.refilter()

    def action_ack(self) -> None:
        alert = self.selected_alert()
        if alert is None:
            self.flash("no alert selected", "warning")
            return
        alert_actions.ack(self, alert)

    def action_silence(self) -> None:
        rule = self.selected_rule()
        if rule is None:
            self.flash("no alert or rule selected", "warning")
            return
        alert_actions.silence(self, rule)

    def action_toggle_rule(self) -> None:
        rule = self.selected_rule()
        data: AlertsData | None = self.last_data
        if rule is None or data is None:
            self.flash("no rule selected", "warning")
            return
        open_alerts = sum(1 for a in data.alerts if a.rule_id == rule.id and a.state.open)
        alert_actions.toggle_rule(self, rule, open_alerts)
