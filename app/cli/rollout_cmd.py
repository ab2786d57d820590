"""`mlc rollout …`: progressive delivery with guardrails and automatic rollback."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.confirm import confirm
from app.cli.output import emit, fields, state, success, table
from core.domain import Rollout
from core.errors import InvalidInput
from core.timeparse import parse_duration

app = typer.Typer(
    help="Progressive rollouts: step a canary up behind guardrails.", no_args_is_help=True
)

EnvOption = Annotated[str, typer.Option("--env", help="staging or production.")]
ReasonOption = Annotated[str, typer.Option(help="Why (goes to the audit log).")]


@app.command("start")
def start(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="The canary version.")],
    steps: Annotated[
        str, typer.Option(help="Canary weights in percent, ending at 100.")
    ] = "5,25,50,100",
    interval: Annotated[
        str, typer.Option(help="Time per step before its analysis, e.g. 10m.")
    ] = "10m",
    guardrail: Annotated[
        list[str] | None,
        typer.Option(help='A condition the canary must keep, e.g. "error_rate<0.02"; may repeat.'),
    ] = None,
    failure_limit: Annotated[
        int, typer.Option(min=0, help="Failed measurements tolerated before abort.")
    ] = 0,
    min_samples: Annotated[
        int, typer.Option(min=0, help="Fewer events than this is inconclusive.")
    ] = 100,
    env: EnvOption = "production",
    reason: ReasonOption = "",
) -> None:
    """Start a rollout: the first step's weight goes live at once."""
    try:
        weights = [float(s) for s in steps.split(",") if s.strip()]
    except ValueError:
        raise InvalidInput(f"invalid --steps {steps!r}: expected e.g. 5,25,50,100") from None
    ro = state(ctx).engine().start_rollout(
        model, version, environment=env, steps=weights,
        interval_s=parse_duration(interval).total_seconds(), guardrails=guardrail or [],
        failure_limit=failure_limit, min_samples=min_samples, reason=reason,
    )  # fmt: skip
    emit(
        ctx,
        ro,
        lambda: success(
            ctx, f"rollout {ro.id}: {ro.canary_version} at {ro.canary_weight:g}% of {model} {env}"
        ),
    )


@app.command("status")
def status(
    ctx: typer.Context, model: Annotated[str, typer.Argument()], env: EnvOption = "production"
) -> None:
    """The rollout's steps, current weight and guardrail results."""
    ro = state(ctx).engine().get_rollout(model, environment=env)
    emit(ctx, ro, lambda: _print(ro))


def _action(name: str, dangerous: bool):  # noqa: ANN202 - a command factory
    def command(
        ctx: typer.Context,
        model: Annotated[str, typer.Argument(help="Model name.")],
        env: EnvOption = "production",
        reason: ReasonOption = "",
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    ) -> None:
        engine = state(ctx).engine()
        if dangerous:
            ro = engine.get_rollout(model, environment=env)
            target = (
                f"send 100% of {model} {env} to {ro.canary_version}"
                if name == "promote"
                else f"abort rollout {ro.id} and restore {ro.stable_traffic}"
            )
            confirm(
                f"{name.capitalize()}: {target}?",
                yes=yes,
                type_to_confirm=model if env == "production" else None,
            )
        ro = getattr(engine, f"{name}_rollout")(model, environment=env, reason=reason)
        emit(
            ctx,
            ro,
            lambda: success(
                ctx, f"rollout {ro.id}: {ro.status} ({ro.canary_version} at {ro.canary_weight:g}%)"
            ),
        )

    command.__doc__ = {
        "pause": "Hold the rollout at its current weight.",
        "resume": "Carry on; the next analysis covers traffic from now.",
        "promote": "Skip the remaining steps: the canary takes 100%.",
        "abort": "Stop and restore the stable traffic map.",
    }[name]
    return command


for _name, _dangerous in (("pause", False), ("resume", False), ("promote", True), ("abort", True)):
    app.command(_name)(_action(_name, _dangerous))


def _print(ro: Rollout) -> None:
    fields(
        [
            ("rollout", ro.id),
            ("model", f"{ro.model_id} {ro.environment}"),
            (
                "canary",
                f"{ro.canary_version} at {ro.canary_weight:g}% (step {ro.step_index + 1} of {len(ro.steps)}: {', '.join(f'{s:g}' for s in ro.steps)})",
            ),
            ("status", ro.status),
            ("stable", ro.stable_traffic),
            ("guardrails", ro.guardrails),
            (
                "interval",
                f"{ro.interval_s:g} s, failure limit {ro.failure_limit}, min samples {ro.min_samples}",
            ),
            ("failures", ro.failures),
            ("started", f"{ro.started_at:%Y-%m-%d %H:%M:%S} by {ro.actor}"),
            ("reason", ro.reason or None),
        ]
    )
    rows = []
    for a in ro.analyses:
        for m in a["measurements"]:
            rows.append(
                [
                    a["step"],
                    f"{a['weight']:g}%",
                    m["guardrail"],
                    m["value"],
                    m["samples"],
                    m["verdict"],
                    a["decision"],
                    m["reason"],
                ]
            )
    if rows:
        table(
            ["STEP", "WEIGHT", "GUARDRAIL", "VALUE", "SAMPLES", "VERDICT", "DECISION", "REASON"],
            rows,
            title="analyses",
        )
