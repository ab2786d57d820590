"""Acting on alerts from the console: acknowledge with a comment, silence a rule or a model
for a while, enable or disable a rule. Each asks first in a dialog, then acts in a thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.tui.fmt import clock
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.form import Field, FormScreen, Values
from core.alerting.types import Alert, Silence
from core.domain import AlertRule
from core.errors import InvalidInput
from core.timeparse import duration_text, parse_duration

if TYPE_CHECKING:
    from app.tui.screens.base import ResourceScreen


def rule_text(rule: AlertRule | Alert) -> str:
    """`error_rate >= 0.02` (the rule's condition, as the alert recorded it)."""
    metric = rule.metric_name
    comparison = rule.comparison
    return f"{metric} {comparison.value} {rule.threshold:g}"


def ack(screen: ResourceScreen, alert: Alert) -> None:
    """`k`: a comment is required; it goes to the alert's history and the audit log."""
    if not alert.state.open:
        screen.flash(
            f"alert {alert.id} is {alert.state}: only a pending or firing alert can be"
            " acknowledged",
            "warning",
        )
        return
    if alert.acknowledged:
        screen.flash(f"alert {alert.id} was already acknowledged by {alert.acked_by}", "warning")
        return

    def validate(values: Values) -> str | None:
        return None if values["comment"] else "a comment is required: who is on it, and why"

    def done(values: Values | None) -> None:
        if values is None:
            screen.flash("not acknowledged")
            return
        engine = screen.engine
        screen.act(
            lambda: engine.ack_alert(alert.id, values["comment"]),
            lambda a: f"alert {a.id} ({a.model_id} {rule_text(a)}) acknowledged by {a.acked_by}",
        )

    form = FormScreen(
        f"Acknowledge {alert.state.upper()} alert on {alert.model_id}",
        [Field("comment", "Comment (kept with the alert and in the audit log)",
               placeholder="looking into it")],
        note=f"{alert.id}: {rule_text(alert)}, {alert.severity}; acknowledged alerts keep"
             " their state but send no repeats",
        validate=validate,
        submit_label="Acknowledge",
    )  # fmt: skip
    screen.app.push_screen(form, done)


def _silence_values(values: Values, model: str) -> tuple[str, float, str]:
    """(scope, seconds, comment) from the silence form; InvalidInput says what is wrong."""
    scope = values["scope"].lower()
    if scope not in ("rule", "model"):
        raise InvalidInput(f"silence the rule or the model {model}: type rule or model")
    seconds = parse_duration(values["duration"]).total_seconds()
    if seconds <= 0:
        raise InvalidInput("the duration must be positive, e.g. 2h")
    if not values["comment"]:
        raise InvalidInput("a comment is required: why is it quiet?")
    return scope, seconds, values["comment"]


def silence(screen: ResourceScreen, rule: AlertRule) -> None:
    """`x`: mute the notifications of `rule`, or of every rule of its model, for a while
    (alerts still change state and show here)."""

    def validate(values: Values) -> str | None:
        try:
            _silence_values(values, rule.model_id)
        except InvalidInput as e:
            return str(e)
        return None

    def done(values: Values | None) -> None:
        if values is None:
            screen.flash("nothing silenced")
            return
        scope, seconds, comment = _silence_values(values, rule.model_id)
        engine = screen.engine

        def call() -> Silence:
            if scope == "rule":
                return engine.silence_alerts(rule_id=rule.id, duration_s=seconds, comment=comment)
            return engine.silence_alerts(model=rule.model_id, duration_s=seconds, comment=comment)

        what = f"rule {rule.id} ({rule_text(rule)})" if scope == "rule" else "every rule"
        screen.act(
            call, lambda s: f"silenced {what} of {rule.model_id} until {clock(s.ends_at)} UTC"
        )

    form = FormScreen(
        f"Silence alerts of {rule.model_id}",
        [
            Field("duration", "For how long (30m, 2h, 1d)", "2h"),
            Field("scope", f"What: rule ({rule.id} {rule_text(rule)}) or model (all its rules)",
                  "rule"),
            Field("comment", "Comment (why it is quiet)", placeholder="deploy in progress"),
        ],
        note="A silence mutes notifications; alerts still change state and show here.",
        validate=validate,
        submit_label="Silence",
    )  # fmt: skip
    screen.app.push_screen(form, done)


def toggle_rule(screen: ResourceScreen, rule: AlertRule, open_alerts: int) -> None:
    """`space` on a rule: enable at once; disable after a y/n (its open alerts close)."""
    engine = screen.engine
    word = "disabled" if rule.is_active else "enabled"

    def act() -> None:
        screen.act(
            lambda: engine.set_alert_rule_active(
                rule.id, not rule.is_active, reason=f"{word} from the console"
            ),
            lambda r: f"rule {r.id} ({r.model_id} {rule_text(r)}) {word}",
        )

    if not rule.is_active:
        act()
        return

    def done(reason: str | None) -> None:
        if reason is None:
            screen.flash(f"rule {rule.id} stays active")
            return
        act()

    lines = [
        f"model    {rule.model_id}",
        f"rule     {rule.id}: {rule_text(rule)} over {duration_text(rule.window_s)},"
        f" {rule.severity}",
        f"open     {open_alerts} alert(s) of this rule close without notification",
        "",
        "It is no longer evaluated until enabled again (space).",
    ]
    screen.app.push_screen(
        ConfirmScreen(f"Disable alert rule {rule.id}?", lines, action_label="Disable"), done
    )
