"""`mlc rollout …`: progressive delivery with guardrails and automatic rollback."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli import owner as owners
from app.cli.confirm import confirm
from app.cli.output import emit, fields, state, success, table
from core.domain import Rollout, RolloutStatus
from core.errors import InvalidInput
from core.jsonable import to_jsonable
from core.timeparse import parse_duration

app = typer.Typer(
    help="Progressive rollouts: step a canary up behind guardrails.", no_args_is_help=True
)

EnvOption = Annotated[str, typer.Option("--env", help="staging or production.")]
ReasonOption = Annotated[str, typer.Option(help="Why (goes to the audit log).")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")]


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
    yes: YesOption = False,
) -> None:
    """Start a rollout: the first step's weight goes live at once.

    When an A/B test owns that traffic, the rollout ends it (interrupted): that is asked
    first (--yes in scripts)."""
    try:
        weights = [float(s) for s in steps.split(",") if s.strip()]
    except ValueError:
        raise InvalidInput(f"invalid --steps {steps!r}: expected e.g. 5,25,50,100") from None
    interval_s = parse_duration(interval).total_seconds()
    engine = state(ctx).engine()
    owner = engine.traffic_owner(model, environment=env)
    if owner is not None:
        confirm(owners.question(f"Start a rollout of {model} {version} in {env}?", owner), yes=yes)
    ro = engine.start_rollout(
        model, version, environment=env, steps=weights, interval_s=interval_s,
        guardrails=guardrail or [], failure_limit=failure_limit, min_samples=min_samples,
        reason=reason,
    )  # fmt: skip
    after = owners.after_change(engine, owner)

    def human() -> None:
        success(
            ctx, f"rollout {ro.id}: {ro.canary_version} at {ro.canary_weight:g}% of {model} {env}"
        )
        if (text := owners.line(after)) is not None:
            success(ctx, text)

    emit(ctx, {**to_jsonable(ro), "interrupted": after}, human)


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
        yes: YesOption = False,
    ) -> None:
        engine = state(ctx).engine()
        # An ended rollout is not asked about: the engine says why there is nothing to do.
        if dangerous and (ro := engine.get_rollout(model, environment=env)).status.active:
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

        def human() -> None:
            text = f"rollout {ro.id}: {ro.status} ({ro.canary_version} at {ro.canary_weight:g}%)"
            if ro.status is RolloutStatus.INTERRUPTED:
                text = f"rollout {ro.id} has ended: it was {ro.reason}; nothing to {name}"
            success(ctx, text)

        emit(ctx, ro, human)

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
