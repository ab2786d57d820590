"""Deploy one version: choose the environment, see its traffic now and after, confirm.

Deploying sends all of the environment's traffic to the version, so production asks for the
model's name and a reason; staging is a plain y/n. The deploy is a compare-and-set on the
revision the dialog showed, so a stale dialog gets a conflict instead of overwriting. An A/B
test or rollout owning that traffic is named: the deploy ends it as interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.tui.actions.owner import ended_words, owner_lines
from app.tui.fmt import traffic
from app.tui.screens.choice import Choice, ChoiceScreen
from app.tui.screens.confirm import ConfirmScreen
from core.deployments.owners import TrafficOwner
from core.domain import DeploymentRevision, ModelVersion
from core.engine import Engine

if TYPE_CHECKING:
    from app.tui.screens.base import ResourceScreen

ENVIRONMENTS = ("staging", "production")


@dataclass(frozen=True)
class DeployPlan:
    model: str
    version: ModelVersion
    current: dict[str, DeploymentRevision | None]
    """Each environment's revision now (None: never deployed)."""
    owners: dict[str, TrafficOwner | None]
    """Each environment's A/B test or rollout owning its traffic, if any."""

    def now(self, environment: str) -> str:
        rev = self.current[environment]
        return f"revision {rev.revision}: {traffic(rev.traffic)}" if rev else "nothing deployed"

    def expected_revision(self, environment: str) -> int:
        rev = self.current[environment]
        return rev.revision if rev else 0


def plan_deploy(engine: Engine, model: str, version: str) -> DeployPlan:
    v = engine.get_version(model, version)
    owners = {env: engine.traffic_owner(model, environment=env) for env in ENVIRONMENTS}
    current = {env: engine.get_deployment(model, environment=env) for env in ENVIRONMENTS}
    return DeployPlan(model, v, current, owners)


def deploy_lines(plan: DeployPlan, environment: str) -> list[str]:
    v = plan.version
    after = plan.expected_revision(environment) + 1
    return [
        f"model    {plan.model}   environment {environment}",
        f"version  {v.version} ({v.status}, {v.algorithm})",
        f"now      {plan.now(environment)}",
        f"after    revision {after}: {v.version} 100%",
        *owner_lines(plan.owners[environment]),
    ]


def start_deploy(screen: ResourceScreen, model: str, version: str) -> None:
    """Load both environments in a thread, choose one, confirm, deploy in a thread."""
    engine = screen.engine

    def confirm(plan: DeployPlan, environment: str | None) -> None:
        if environment is None:
            screen.flash(f"deploy of {model} {version} cancelled")
            return
        production = environment == "production"

        def done(reason: str | None) -> None:
            if reason is None:
                screen.flash(f"deploy of {model} {version} cancelled")
                return
            screen.act(
                lambda: engine.deploy(
                    model,
                    plan.version.version,
                    environment=environment,
                    reason=reason or "deployed from the console",
                    expected_revision=plan.expected_revision(environment),
                ),
                lambda rev: (
                    f"deployed {model} {plan.version.version} to {environment}:"
                    f" revision {rev.revision} serves {traffic(rev.traffic)}"
                    + ended_words(engine, plan.owners[environment])
                ),
            )

        dialog = ConfirmScreen(
            f"Deploy {model} {plan.version.version} to {environment}?",
            deploy_lines(plan, environment),
            type_to_confirm=model if production else None,
            ask_reason=production,
            action_label="Deploy",
        )
        screen.app.push_screen(dialog, done)

    def choose(plan: DeployPlan) -> None:
        v = plan.version.version
        choices = [
            Choice(
                env,
                f"{env:<11} now {traffic(rev.traffic) if rev else '—'} → {v} 100%"
                + (f"   (ends its {owner.noun})" if (owner := plan.owners[env]) else "")
                + ("   (asks for the model name)" if env == "production" else ""),
            )
            for env, rev in plan.current.items()
        ]
        dialog = ChoiceScreen(
            f"Deploy {model} {v} to which environment?",
            [f"{v}: {plan.version.status}, {plan.version.algorithm}"],
            choices,
        )
        screen.app.push_screen(dialog, lambda env: confirm(plan, env))

    screen.prepare(lambda: plan_deploy(engine, model, version), choose)
