"""`mlc alerts …`: rules, alerts with their lifecycle, acknowledgements and silences."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import emit, state, success, table
from core.errors import InvalidInput
from core.timeparse import parse_duration

app = typer.Typer(
    help="Alerts: rules, firing alerts, acknowledgements, silences.", no_args_is_help=True
)
rules_app = typer.Typer(help="Alert rules (operator over HTTP).", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

IdArg = Annotated[str, typer.Argument(metavar="ID")]


def _seconds(text: str) -> int:
    return int(parse_duration(text).total_seconds())


@rules_app.command("list")
def rules_list(
    ctx: typer.Context, model: Annotated[str | None, typer.Option(help="Only this model.")] = None
) -> None:
    """Every rule."""
    rules = state(ctx).engine().list_alert_rules(model=model)

    def human() -> None:
        table(
            ["ID", "MODEL", "CONDITION", "WINDOW", "FOR", "SEVERITY", "CHANNELS", "ACTIVE"],
            [[r.id, r.model_id, f"{r.metric_name} {r.comparison} {r.threshold:g}", f"{r.window_s}s",
              f"{r.for_s}s", r.severity, r.notification_channels, "yes" if r.is_active else "no"]
             for r in rules],
        )  # fmt: skip

    emit(ctx, {"rules": rules}, human)


@rules_app.command("add")
def rules_add(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    metric: Annotated[
        str,
        typer.Argument(
            help="error_rate, latency_p99_ms, accuracy, drift_share, drift.<feature>, psi.<feature>, concept_drift, event.<kind>, …"
        ),
    ],
    comparison: Annotated[str, typer.Argument(help="> >= < <= == !=")],
    threshold: Annotated[float, typer.Argument(help="The threshold.")],
    window: Annotated[str, typer.Option(help="Measured over this window.")] = "5m",
    for_: Annotated[str, typer.Option("--for", help="Firing only once true this long.")] = "0s",
    severity: Annotated[str, typer.Option(help="info, warning or critical.")] = "warning",
    channel: Annotated[
        list[str] | None,
        typer.Option(help="console, log:PATH, webhook:URL, slack:URL; may repeat."),
    ] = None,
    repeat: Annotated[
        str, typer.Option(help="Repeat notifications while firing and unacknowledged.")
    ] = "1h",
) -> None:
    """Add a rule: MODEL METRIC COMPARISON THRESHOLD, e.g. credit-default error_rate '>' 0.02."""
    rule = state(ctx).engine().create_alert_rule(
        model, metric, comparison, threshold, window_s=_seconds(window), for_s=_seconds(for_),
        severity=severity, channels=channel, repeat_s=_seconds(repeat),
    )  # fmt: skip
    emit(
        ctx,
        rule,
        lambda: success(
            ctx,
            f"rule {rule.id}: {rule.model_id} {rule.metric_name} {rule.comparison} {rule.threshold:g}",
        ),
    )


def _toggle(name: str, active: bool | None):  # noqa: ANN202 - a command factory
    def command(
        ctx: typer.Context, rule_id: IdArg, reason: Annotated[str, typer.Option(help="Why.")] = ""
    ) -> None:
        engine = state(ctx).engine()
        rule = (
            engine.delete_alert_rule(rule_id, reason=reason)
            if active is None
            else engine.set_alert_rule_active(rule_id, active, reason=reason)
        )
        emit(
            ctx,
            rule,
            lambda: success(
                ctx, f"rule {rule.id} {name}d" if name != "remove" else f"rule {rule.id} removed"
            ),
        )

    command.__doc__ = {"enable": "Evaluate the rule again.", "disable": "Stop evaluating the rule (open alerts close).",
                       "remove": "Remove the rule (its alerts and history stay)."}[name]  # fmt: skip
    return command


rules_app.command("enable")(_toggle("enable", True))
rules_app.command("disable")(_toggle("disable", False))
rules_app.command("remove")(_toggle("remove", None))


@app.command("list")
def alerts_list(
    ctx: typer.Context,
    state_: Annotated[
        str | None, typer.Option("--state", help="pending, firing, resolved or open.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
) -> None:
    """Alerts, newest first."""
    alerts = state(ctx).engine().list_alerts(state=state_, model=model)

    def human() -> None:
        table(
            ["ID", "MODEL", "STATE", "CONDITION", "VALUE", "SEVERITY", "STARTED", "ACKED"],
            [[a.id, a.model_id, a.state, f"{a.metric_name} {a.comparison} {a.threshold:g}", a.value,
              a.severity, a.started_at, f"{a.acked_by}: {a.ack_comment}" if a.acked_at else None]
             for a in alerts],
        )  # fmt: skip

    emit(ctx, {"alerts": alerts}, human)


@app.command("history")
def alerts_history(
    ctx: typer.Context,
    alert: Annotated[str | None, typer.Option(help="One alert's history.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
) -> None:
    """Every state change and acknowledgement, oldest first."""
    found = state(ctx).engine().alert_history(alert_id=alert, model=model)

    def human() -> None:
        table(["TIME", "ALERT", "MODEL", "CHANGE", "VALUE", "BY", "MESSAGE"],
              [[t.at, t.alert_id, t.model_id, f"{t.from_state} → {t.to_state}" if t.kind == "state" else t.kind,
                t.value, t.actor, t.message] for t in found])  # fmt: skip

    emit(ctx, {"transitions": found}, human)


@app.command("show")
def show(ctx: typer.Context, alert_id: IdArg) -> None:
    """One alert and its history: every state change and acknowledgement, oldest first."""
    engine = state(ctx).engine()
    alert = engine.get_alert(alert_id)
    history = engine.alert_history(alert_id=alert_id)

    def human() -> None:
        condition = f"{alert.metric_name} {alert.comparison} {alert.threshold:g}"
        table(
            ["ALERT", "MODEL", "STATE", "CONDITION", "VALUE", "SEVERITY", "STARTED", "ACKED"],
            [
                [
                    alert.id,
                    alert.model_id,
                    alert.state,
                    condition,
                    alert.value,
                    alert.severity,
                    alert.started_at,
                    f"{alert.acked_by}: {alert.ack_comment}" if alert.acked_at else None,
                ]
            ],
        )
        table(["TIME", "CHANGE", "VALUE", "BY", "MESSAGE"],
              [[t.at, f"{t.from_state} → {t.to_state}" if t.kind == "state" else t.kind, t.value,
                t.actor, t.message] for t in history])  # fmt: skip

    emit(ctx, {"alert": alert, "transitions": history}, human)


@app.command("ack")
def ack(
    ctx: typer.Context,
    alert_id: IdArg,
    comment: Annotated[str, typer.Option(help="What you are doing about it.")],
) -> None:
    """Acknowledge a firing alert: repeats stop; the resolve is still announced."""
    alert = state(ctx).engine().ack_alert(alert_id, comment)
    emit(ctx, alert, lambda: success(ctx, f"alert {alert.id} acknowledged"))


@app.command("silence")
def silence(
    ctx: typer.Context,
    rule: Annotated[str | None, typer.Option(help="Silence this rule.")] = None,
    model: Annotated[str | None, typer.Option(help="Silence this model's alerts.")] = None,
    for_: Annotated[str, typer.Option("--for", help="How long, e.g. 2h.")] = "1h",
    comment: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Mute notifications (alerts still change state) until the silence expires."""
    if rule is None and model is None:
        raise InvalidInput("silence what? give --rule ID or --model NAME")
    found = (
        state(ctx)
        .engine()
        .silence_alerts(
            rule_id=rule,
            model=model,
            duration_s=parse_duration(for_).total_seconds(),
            comment=comment,
        )
    )
    emit(
        ctx,
        found,
        lambda: success(ctx, f"silence {found.id} until {found.ends_at:%Y-%m-%d %H:%M:%S} UTC"),
    )


@app.command("silences")
def silences(
    ctx: typer.Context,
    active: Annotated[bool, typer.Option("--active", help="Only active ones.")] = False,
) -> None:
    """Silences, with their expiry."""
    found = state(ctx).engine().list_silences(active_only=active)
    emit(ctx, {"silences": found}, lambda: table(
        ["ID", "RULE", "MODEL", "UNTIL", "BY", "COMMENT", "EXPIRED"],
        [[s.id, s.rule_id, s.model_id, s.ends_at, s.created_by, s.comment, s.expired_at] for s in found]))  # fmt: skip


@app.command("unsilence")
def unsilence(
    ctx: typer.Context, silence_id: IdArg, reason: Annotated[str, typer.Option(help="Why.")] = ""
) -> None:
    """End a silence now."""
    found = state(ctx).engine().expire_silence(silence_id, reason=reason)
    emit(ctx, found, lambda: success(ctx, f"silence {found.id} expired"))


@app.command("evaluate")
def evaluate(ctx: typer.Context) -> None:
    """Evaluate every rule now (the server also does it on a schedule)."""
    found = state(ctx).engine().evaluate_alerts()
    emit(ctx, {"transitions": found}, lambda: success(ctx, f"{len(found)} state change(s)"))
