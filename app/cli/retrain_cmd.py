"""`mlc retrain-policies …`: when an alert fires, train a new version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.output import emit, state, success, table
from core.errors import InvalidInput
from core.timeparse import parse_duration

app = typer.Typer(
    help="Retrain policies: an alert rule firing triggers a training job.", no_args_is_help=True
)


@app.command("list")
def list_(
    ctx: typer.Context, model: Annotated[str | None, typer.Option(help="Only this model.")] = None
) -> None:
    """Policies and what they did."""
    policies = state(ctx).engine().list_retrain_policies(model=model)

    def human() -> None:
        table(
            ["ID", "MODEL", "RULE", "CONFIG", "COOLDOWN", "CANARY", "LAST RUN"],
            [[p.id, p.model_id, p.rule_id, p.config_path, f"{p.cooldown_s}s",
              p.canary["steps"] if p.canary else None,
              f"{p.runs[-1]['outcome']} {p.runs[-1]['ran_at']}" if p.runs else None] for p in policies],
        )  # fmt: skip

    emit(ctx, {"policies": policies}, human)


@app.command("add")
def add(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    rule: Annotated[str, typer.Option(help="The alert rule id that triggers it.")],
    config: Annotated[Path, typer.Option(help="Training config (TOML) to run.")],
    cooldown: Annotated[str, typer.Option(help="At most one run per this long.")] = "1h",
    canary: Annotated[
        bool, typer.Option("--canary", help="Start a validated new version as a canary rollout.")
    ] = False,
    steps: Annotated[str, typer.Option(help="Canary steps.")] = "5,25,50,100",
    interval: Annotated[str, typer.Option(help="Canary step interval.")] = "10m",
    guardrail: Annotated[
        list[str] | None, typer.Option(help="Canary guardrail; may repeat.")
    ] = None,
) -> None:
    """When RULE fires for MODEL, train CONFIG (validation gates apply as always)."""
    canary_spec = None
    if canary:
        try:
            weights = [float(s) for s in steps.split(",")]
        except ValueError:
            raise InvalidInput(f"invalid --steps {steps!r}") from None
        canary_spec = {"steps": weights, "interval_s": parse_duration(interval).total_seconds(),
                       "guardrails": guardrail or []}  # fmt: skip
    policy = (
        state(ctx)
        .engine()
        .create_retrain_policy(
            model,
            rule,
            str(config),
            cooldown_s=int(parse_duration(cooldown).total_seconds()),
            canary=canary_spec,
        )
    )
    emit(
        ctx,
        policy,
        lambda: success(
            ctx, f"policy {policy.id}: when {policy.rule_id} fires, train {policy.config_path}"
        ),
    )


@app.command("remove")
def remove(ctx: typer.Context, policy_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Remove a policy (its run history stays in the audit log)."""
    policy = state(ctx).engine().delete_retrain_policy(policy_id)
    emit(ctx, policy, lambda: success(ctx, f"policy {policy.id} removed"))
