"""Progressive rollouts from the console: start one through a form checked with core's own
parsers (naming the A/B test the start would end), and pause, resume, promote or abort one
(promote and abort confirmed, naming the canary and the production traffic before → after).
A rollout that someone else's change interrupted has ended: the keys say so and change
nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.tui.actions.owner import ended_words
from app.tui.fmt import traffic
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.form import Field, FormScreen, Values
from core.deployments.owners import TrafficOwner
from core.domain import DeploymentRevision, Rollout, RolloutStatus
from core.engine import Engine
from core.errors import InvalidInput
from core.rollout.guardrails import parse_guardrail
from core.timeparse import parse_duration

if TYPE_CHECKING:
    from app.tui.screens.base import ResourceScreen

DEFAULT_STEPS = "5,25,50,100"
DEFAULT_INTERVAL = "10m"
DEFAULT_GUARDRAILS = "error_rate<0.02; latency_p99_ms<50"


@dataclass(frozen=True)
class RolloutRequest:
    steps: list[float]
    interval_s: float
    guardrails: list[str]
    reason: str


def parse_rollout_form(values: Values) -> RolloutRequest:
    """The form's text → what `start_rollout` takes; InvalidInput names the bad field.

    The engine checks the rest (steps increase and end at 100, the canary is not serving)."""
    try:
        steps = [float(s) for s in values["steps"].replace(" ", ",").split(",") if s.strip()]
    except ValueError:
        raise InvalidInput(
            f"steps {values['steps']!r}: give percentages, e.g. {DEFAULT_STEPS}"
        ) from None
    if not steps:
        raise InvalidInput(f"steps: give at least one percentage, e.g. {DEFAULT_STEPS}")
    interval = parse_duration(values["interval"]).total_seconds()
    guardrails = [parse_guardrail(g).text for g in values["guardrails"].split(";") if g.strip()]
    return RolloutRequest(steps, interval, guardrails, values.get("reason", ""))


def _problem(values: Values) -> str | None:
    try:
        parse_rollout_form(values)
    except InvalidInput as e:
        return e.message
    return None


def ended_rollout(ro: Rollout, action: str) -> str | None:
    """What the flash line says instead, when a key acts on a rollout that has ended because
    someone else changed its traffic; None otherwise."""
    if ro.status is not RolloutStatus.INTERRUPTED:
        return None
    return f"nothing to {action}: rollout {ro.id} has ended, {ro.reason}"


def start_rollout_form(screen: ResourceScreen, model: str, version: str) -> None:
    """Ask for steps, interval and guardrails, then start the rollout in a thread."""
    engine = screen.engine

    def load() -> tuple[DeploymentRevision | None, TrafficOwner | None]:
        return (
            engine.get_deployment(model, environment="production"),
            engine.traffic_owner(model, environment="production"),
        )

    def ask(found: tuple[DeploymentRevision | None, TrafficOwner | None]) -> None:
        current, owner = found
        if current is None:
            screen.flash(
                f"{model} has nothing in production to roll out against: deploy a version first",
                "error",
            )
            return
        note = (
            f"now {traffic(current.traffic)}; {version} takes the first step at once.\n"
            "A failed guardrail between steps aborts: today's traffic returns."
        )
        if owner is not None:
            note += f"\n{owner.label} ({owner.status}) owns this traffic:\nstarting ends it as interrupted."
        form = FormScreen(
            f"Roll {model} {version} out to production",
            [
                Field("steps", "Canary weights, percent", DEFAULT_STEPS, DEFAULT_STEPS),
                Field("interval", "Time per step (30s, 10m, 1h)", DEFAULT_INTERVAL, "10m"),
                Field("guardrails", "Guardrails, ; between", DEFAULT_GUARDRAILS, "error_rate<0.02"),
                Field("reason", "Reason (audit log)", "", "why"),
            ],
            note=note,
            validate=_problem,
            submit_label="Start",
        )
        screen.app.push_screen(form, lambda values: start(values, owner))

    def start(values: Values | None, owner: TrafficOwner | None) -> None:
        if values is None:
            screen.flash(f"rollout of {model} {version} not started")
            return
        request = parse_rollout_form(values)
        screen.act(
            lambda: engine.start_rollout(
                model,
                version,
                steps=request.steps,
                interval_s=request.interval_s,
                guardrails=request.guardrails,
                reason=request.reason,
            ),
            lambda ro: (
                f"rollout {ro.id}: {ro.canary_version} at {ro.canary_weight:g}% of {model}"
                " production (o shows it)" + ended_words(engine, owner)
            ),
        )

    screen.prepare(load, ask)


@dataclass(frozen=True)
class RolloutPlan:
    rollout: Rollout
    current: DeploymentRevision | None


def plan_rollout(engine: Engine, model: str) -> RolloutPlan:
    return RolloutPlan(
        engine.get_rollout(model), engine.get_deployment(model, environment="production")
    )


def rollout_lines(plan: RolloutPlan, after: dict[str, float], note: str) -> list[str]:
    ro = plan.rollout
    now = traffic(plan.current.traffic) if plan.current else "—"
    return [
        f"model    {ro.model_id} {ro.environment}   rollout {ro.id}",
        f"canary   {ro.canary_version}, now {ro.canary_weight:g}%"
        f" (step {ro.step_index + 1} of {len(ro.steps)})",
        f"now      {now}",
        f"after    {traffic(after)}",
        "",
        note,
    ]


def confirm_rollout(screen: ResourceScreen, model: str, action: str) -> None:
    """`promote` (the canary takes 100%: type the model name) or `abort` (back to the
    stable traffic: y/n, so it stays quick in an incident)."""
    engine = screen.engine

    def confirm(plan: RolloutPlan) -> None:
        ro = plan.rollout
        if (text := ended_rollout(ro, action)) is not None:
            screen.flash(text, "warning")
            return
        if not ro.status.active:
            screen.flash(f"rollout {ro.id} is {ro.status}: nothing to {action}", "warning")
            return
        if action == "promote":
            after = {ro.canary_version: 1.0}
            note = "The remaining steps and their guardrail checks are skipped."
        else:
            after = ro.stable_traffic
            note = "The canary is taken out; its revisions are marked unhealthy."

        def done(reason: str | None) -> None:
            if reason is None:
                screen.flash(f"{action} of {model}'s rollout cancelled")
                return
            call = engine.promote_rollout if action == "promote" else engine.abort_rollout
            screen.act(
                lambda: call(model, reason=reason or f"{action} from the console"),
                lambda r: (
                    ended_rollout(r, action)
                    or f"rollout {r.id} {r.status}: {model} production serves {traffic(after)}"
                ),
            )

        dialog = ConfirmScreen(
            f"{action.capitalize()} the rollout of {model} {ro.canary_version}?",
            rollout_lines(plan, after, note),
            type_to_confirm=model if action == "promote" else None,
            ask_reason=action == "promote",
            action_label=action.capitalize(),
        )
        screen.app.push_screen(dialog, done)

    screen.prepare(lambda: plan_rollout(engine, model), confirm)
