"""`mlc deploy`, `mlc history`, `mlc traffic`, `mlc rollback` and `mlc predict`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli import owner as owners
from app.cli.confirm import confirm
from app.cli.output import emit, state, success, table
from core.deployments.owners import TrafficOwner
from core.domain import DeploymentRevision
from core.errors import InvalidInput
from core.jsonable import to_jsonable
from core.traffic import describe, percent_to_fractions

if TYPE_CHECKING:
    from core.engine import Engine

EnvOption = Annotated[str, typer.Option("--env", help="staging or production.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def deploy(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="v3, 3 or an alias.")],
    env: EnvOption = "production",
    reason: Annotated[str, typer.Option(help="Why (goes to history and audit).")] = "",
    yes: YesOption = False,
) -> None:
    """Send all of an environment's traffic to one validated version (a new revision).

    When an A/B test or rollout owns that traffic, the deploy ends it (interrupted): that is
    asked first, with the model's name typed for production (--yes in scripts)."""
    engine = state(ctx).engine()
    owner = engine.traffic_owner(model, environment=env)
    current = engine.get_deployment(model, environment=env)
    if owner is not None:
        confirm(
            owners.question(f"Deploy {model} {version} to {env}?", owner),
            yes=yes,
            type_to_confirm=model if env == "production" else None,
        )
    rev = engine.deploy(
        model, version, environment=env, reason=reason,
        expected_revision=current.revision if current else 0,
    )  # fmt: skip
    _emit_change(ctx, engine, model, env, current, rev, owner)


def history(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    env: Annotated[str | None, typer.Option("--env", help="Only this environment.")] = None,
) -> None:
    """Every revision of a model's traffic maps, oldest first."""
    revisions = state(ctx).engine().deployment_history(model, environment=env)

    def human() -> None:
        table(
            ["ENV", "REV", "TRAFFIC", "KIND", "HEALTHY", "ACTOR", "TIME", "REASON"],
            [
                [r.environment, r.revision, describe(r.traffic), r.kind,
                 "yes" if r.healthy else "no", r.actor, r.created_at, r.reason]
                for r in revisions
            ],
        )  # fmt: skip

    emit(ctx, {"model": model, "revisions": revisions}, human)


def traffic(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    split: Annotated[
        list[str], typer.Argument(metavar="VERSION=PERCENT...", help="e.g. v3=90 v4=10")
    ],
    env: EnvOption = "production",
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    yes: YesOption = False,
) -> None:
    """Change the traffic split; percentages must sum to 100."""
    weights: dict[str, float] = {}
    for item in split:
        version, sep, pct = item.partition("=")
        if not sep:
            raise InvalidInput(f"invalid split {item!r}: expected VERSION=PERCENT, e.g. v4=10")
        try:
            weights[version.strip()] = float(pct)
        except ValueError:
            raise InvalidInput(f"invalid percentage {pct!r} for {version}") from None
    fractions = percent_to_fractions(weights)
    engine = state(ctx).engine()
    owner = engine.traffic_owner(model, environment=env)
    current = engine.get_deployment(model, environment=env)
    before = describe(current.traffic) if current else "nothing"
    full = any(w >= 1.0 for w in fractions.values())
    confirm(
        owners.question(
            f"Change {model} {env} traffic from {before} to {describe(fractions)}?", owner
        ),
        yes=yes,
        type_to_confirm=model if full and env == "production" else None,
    )
    rev = engine.set_traffic(
        model, fractions, environment=env, reason=reason,
        expected_revision=current.revision if current else 0,
    )  # fmt: skip
    _emit_change(ctx, engine, model, env, current, rev, owner)


def rollback(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    reason: Annotated[str, typer.Option(help="Why (required).")],
    env: EnvOption = "production",
    to: Annotated[
        str | None, typer.Option("--to", help="Roll back to this version at 100%.")
    ] = None,
    revision: Annotated[
        int | None, typer.Option("--revision", help="Restore this revision's map.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the change, make none.")] = False,
    yes: YesOption = False,
) -> None:
    """Restore an earlier traffic map as a new revision (default: the last known good one)."""
    engine = state(ctx).engine()
    owner = engine.traffic_owner(model, environment=env)
    current = engine.get_deployment(model, environment=env)
    plan = engine.rollback(
        model, environment=env, to_version=to, to_revision=revision, reason=reason, dry_run=True
    )
    if dry_run:

        def human() -> None:
            success(ctx, "dry run: " + _change_line(model, env, current, plan))
            if owner is not None:
                success(ctx, owner.warning())

        emit(ctx, {"dry_run": True, "revision": plan, "interrupts": owner}, human)
        return
    confirm(
        owners.question(
            f"Roll back {model} {env} from {describe(current.traffic) if current else '-'}"
            f" to {describe(plan.traffic)} (revision {plan.revision})?",
            owner,
        ),
        yes=yes,
        type_to_confirm=model if env == "production" else None,
    )
    rev = engine.rollback(
        model, environment=env, to_version=to, to_revision=revision, reason=reason,
        expected_revision=current.revision if current else None,
    )  # fmt: skip
    _emit_change(ctx, engine, model, env, current, rev, owner)


def predict(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    features: Annotated[
        str | None, typer.Option(help='Features as JSON: {"age": 41, "region": "north"}.')
    ] = None,
    entity: Annotated[
        str | None,
        typer.Option(
            help="Fetch the features from the feature store: an entity id, or JSON"
            ' {"customer_id": "c-42"}; --features still win.'
        ),
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Unit id for sticky routing.")] = None,
    request_id: Annotated[str | None, typer.Option("--request-id", help="Idempotency key.")] = None,
    env: EnvOption = "production",
) -> None:
    """Ask the deployed model for one prediction (routed and logged like any request)."""
    if features is None and entity is None:
        raise InvalidInput("give --features JSON, --entity ID, or both")
    item: dict[str, Any] = {}
    if features is not None:
        try:
            item["features"] = json.loads(features)
        except json.JSONDecodeError as e:
            raise InvalidInput(f"--features is not valid JSON: {e.msg}") from None
    if entity is not None:
        item["entity"] = _entity(entity)
    if unit is not None:
        item["unit_id"] = unit
    if request_id is not None:
        item["request_id"] = request_id
    [answer] = state(ctx).engine().predict(model, [item], environment=env)

    def human() -> None:
        probs = ""
        if answer.probabilities:
            probs = (
                "  (" + ", ".join(f"P({k})={v:.3f}" for k, v in answer.probabilities.items()) + ")"
            )
        success(
            ctx,
            f"{answer.version}: {answer.prediction}{probs}  request {answer.request_id}, {answer.latency_ms:.2f} ms",
        )

    emit(ctx, answer, human)


def _entity(text: str) -> Any:
    """An entity id as typed, or the JSON object naming its keys."""
    if not text.lstrip().startswith("{"):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidInput(f"--entity is not valid JSON: {e.msg}") from None


def _emit_change(
    ctx: typer.Context,
    engine: Engine,
    model: str,
    env: str,
    before: DeploymentRevision | None,
    rev: DeploymentRevision,
    owner: TrafficOwner | None,
) -> None:
    """The new revision, and what became of the test or rollout that owned the traffic."""
    after = owners.after_change(engine, owner)

    def human() -> None:
        success(ctx, _change_line(model, env, before, rev))
        if (text := owners.line(after)) is not None:
            success(ctx, text)

    emit(ctx, {**to_jsonable(rev), "interrupted": after}, human)


def _change_line(
    model: str, env: str, before: DeploymentRevision | None, after: DeploymentRevision
) -> str:
    was = describe(before.traffic) if before else "nothing"
    return f"{model} {env} revision {after.revision}: {was} → {describe(after.traffic)}"
