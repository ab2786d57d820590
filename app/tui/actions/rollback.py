"""Roll back: the dialog shows the traffic now and after (the engine's own dry run) and the A/B
test or rollout the rollback ends, and a production rollback asks for the model's name and a
reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.tui.actions.owner import ended_words, owner_lines
from app.tui.fmt import clock, traffic
from app.tui.screens.confirm import ConfirmScreen
from core.deployments.owners import TrafficOwner
from core.domain import DeploymentRevision
from core.errors import NotFound

if TYPE_CHECKING:
    from app.tui.screens.base import ResourceScreen
    from core.engine import Engine


@dataclass(frozen=True)
class RollbackPlan:
    model: str
    environment: str
    current: DeploymentRevision
    after: DeploymentRevision
    """The engine's dry run: the revision a rollback would create now."""
    owner: TrafficOwner | None = None
    """The A/B test or rollout owning the traffic now: the rollback ends it."""


def plan_rollback(engine: Engine, model: str, environment: str = "production") -> RollbackPlan:
    owner = engine.traffic_owner(model, environment=environment)
    current = engine.get_deployment(model, environment=environment)
    if current is None:
        raise NotFound(f"{model} has no {environment} deployment to roll back")
    after = engine.rollback(model, environment=environment, reason="dry run", dry_run=True)
    return RollbackPlan(model, environment, current, after, owner)


def rollback_lines(plan: RollbackPlan) -> list[str]:
    return [
        f"model    {plan.model}   environment {plan.environment}",
        f"now      revision {plan.current.revision}: {traffic(plan.current.traffic)}"
        f"   (since {clock(plan.current.created_at)}, {plan.current.kind})",
        f"after    revision {plan.after.revision}: {traffic(plan.after.traffic)}",
        *owner_lines(plan.owner),
        "",
        "History is kept: the rollback is a new revision.",
    ]


def start_rollback(screen: ResourceScreen, model: str, environment: str = "production") -> None:
    """Plan in a thread, confirm in a dialog, roll back in a thread, report on the flash line."""

    def confirm(plan: RollbackPlan) -> None:
        def done(reason: str | None) -> None:
            if reason is None:
                screen.flash(f"rollback of {model} cancelled")
                return
            screen.act(
                lambda: screen.engine.rollback(
                    model,
                    environment=environment,
                    reason=reason,
                    expected_revision=plan.current.revision,
                ),
                lambda rev: (
                    f"rolled back {model} ({environment}): revision {rev.revision}"
                    f" serves {traffic(rev.traffic)}" + ended_words(screen.engine, plan.owner)
                ),
            )

        dialog = ConfirmScreen(
            f"Roll back {model} in {environment}?",
            rollback_lines(plan),
            type_to_confirm=model if environment == "production" else None,
            ask_reason=True,
            action_label="Roll back",
        )
        screen.app.push_screen(dialog, done)

    screen.prepare(lambda: plan_rollback(screen.engine, model, environment), confirm)
