"""The A/B test's dangerous actions: change the split, promote the winner, start, stop.

Each one loads what the dialog must show in a thread (the test, the production traffic, the
analysis), asks in a dialog naming the model, the versions and the traffic before → after,
then acts in a thread after checking that what the operator confirmed still holds, so a
dialog left open while someone else changed the test gets a clear conflict instead of
overwriting their change. A test that someone else's traffic change interrupted has ended:
its keys say so on the flash line and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.tui.actions.owner import owner_lines
from app.tui.fmt import parse_split, traffic
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.form import Field, FormScreen, Values
from core.deployments.owners import TrafficOwner
from core.domain import ABTest, DeploymentRevision, TestStatus
from core.engine import Engine
from core.errors import Conflict, IllegalTransition

if TYPE_CHECKING:
    from app.tui.screens.base import ResourceScreen


def percents(split: dict[str, float], versions: list[str]) -> str:
    """`50,50` in the test's version order: what the split dialog is prefilled with."""
    return ",".join(f"{split.get(v, 0):g}" for v in versions)


def split_words(split: dict[str, float], control: str) -> str:
    """`v1 (control) 50% · v2 50%` in the test's order."""
    return " · ".join(f"{v}{' (control)' if v == control else ''} {p:g}%" for v, p in split.items())


@dataclass(frozen=True)
class TestPlan:
    """What a dialog about one test shows: the test now and the production traffic now."""

    __test__ = False

    test: ABTest
    current: DeploymentRevision | None

    @property
    def now_traffic(self) -> str:
        if self.current is None:
            return "nothing deployed"
        return f"revision {self.current.revision}: {traffic(self.current.traffic)}"


def load_plan(engine: Engine, test_id: str) -> TestPlan:
    test = engine.get_ab_test(test_id)
    return TestPlan(test, engine.get_deployment(test.model_id, environment=test.environment))


def ended_test(test: ABTest, action: str) -> str | None:
    """What the flash line says instead, when a key acts on a test that has ended because
    someone else changed its traffic; None otherwise."""
    if test.status is not TestStatus.INTERRUPTED:
        return None
    return f"nothing to {action}: test {test.name} has ended, {test.reason}"


def _unchanged(engine: Engine, plan: TestPlan) -> ABTest:
    """The test as the dialog showed it, else Conflict naming what changed meanwhile."""
    test = engine.get_ab_test(plan.test.id)
    if test.status != plan.test.status or test.traffic_split != plan.test.traffic_split:
        raise Conflict(
            f"A/B test {test.id} changed while the dialog was open (now {test.status},"
            f" split {split_words(test.traffic_split, test.model_versions[0])}): look again"
        )
    return test


# --- split ----------------------------------------------------------------------------------


def split_lines(plan: TestPlan, after: dict[str, float]) -> list[str]:
    test = plan.test
    control = test.model_versions[0]
    lines = [
        f"model    {test.model_id}   test {test.id} ({test.status})",
        f"versions {', '.join(test.model_versions)}   control {control}",
        f"split    {split_words(test.traffic_split, control)}",
        f"   →     {split_words(after, control)}",
    ]
    if test.status is TestStatus.RUNNING:
        lines += [
            f"production now   {plan.now_traffic}",
            f"production after {traffic({v: p / 100 for v, p in after.items() if p > 0})}",
        ]
    else:
        lines.append(f"production traffic does not change: the test is {test.status}")
    return lines


def start_split(screen: ResourceScreen, test_id: str) -> None:
    """`s`: the split in a form (validated: one percentage per version, sum 100), then a
    confirmation; a shift of 100% to one version asks for the model's name."""
    engine = screen.engine

    def ask(plan: TestPlan) -> None:
        if (text := ended_test(plan.test, "split")) is not None:
            screen.flash(text, "warning")
            return
        versions = plan.test.model_versions

        def validate(values: Values) -> str | None:
            try:
                parse_split(values["split"], versions)
            except ValueError as e:
                return str(e)
            return None

        def entered(values: Values | None) -> None:
            if values is None:
                screen.flash("split unchanged")
                return
            after = {
                v: round(w * 100, 6) for v, w in parse_split(values["split"], versions).items()
            }
            after = {v: after.get(v, 0.0) for v in versions}
            if after == {v: float(p) for v, p in plan.test.traffic_split.items()}:
                screen.flash(f"the split is already {split_words(after, versions[0])}")
                return
            confirm(plan, after)

        form = FormScreen(
            f"Split of A/B test {plan.test.name} ({plan.test.model_id})",
            [Field("split", f"Percent per version, in order {', '.join(versions)}",
                   percents(plan.test.traffic_split, versions), "70,30 or v1=70,v2=30")],
            note=f"now {split_words(plan.test.traffic_split, versions[0])}; must sum to 100",
            validate=validate,
            submit_label="Next",
        )  # fmt: skip
        screen.app.push_screen(form, entered)

    def confirm(plan: TestPlan, after: dict[str, float]) -> None:
        test = plan.test
        whole = next((v for v, p in after.items() if p >= 100), None)

        def done(reason: str | None) -> None:
            if reason is None:
                screen.flash("split unchanged")
                return

            def call() -> ABTest:
                _unchanged(engine, plan)
                return engine.update_traffic_split(test.id, after, reason=reason)

            screen.act(
                call,
                lambda t: (
                    f"{t.model_id}: test {t.name} split now"
                    f" {split_words(t.traffic_split, t.model_versions[0])}"
                ),
            )

        lines = split_lines(plan, after)
        if whole is not None:
            lines += ["", f"This sends 100% of the test's traffic to {whole}."]
        screen.app.push_screen(
            ConfirmScreen(
                f"Change the split of {test.model_id} test {test.name}?",
                lines,
                type_to_confirm=test.model_id if whole is not None else None,
                ask_reason=True,
                action_label="Change split",
            ),
            done,
        )

    screen.prepare(lambda: load_plan(engine, test_id), ask)


# --- promote --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromotePlan:
    plan: TestPlan
    winner: str
    recommendation: str
    owner: TrafficOwner | None = None
    """A rollout owning the traffic (of a paused test's model): the promotion ends it."""


def load_promote(engine: Engine, test_id: str) -> PromotePlan:
    """The winner the analysis names now, or the engine's refusal (IllegalTransition)."""
    plan = load_plan(engine, test_id)
    test = plan.test
    if test.status not in (TestStatus.RUNNING, TestStatus.PAUSED):
        raise IllegalTransition(
            f"A/B test {test.id} is {test.status}: only a running or paused test can be promoted"
        )
    results = engine.analyze_test_results(test_id)
    if results.winner is None:
        # The engine's refusal in its words, without its hint at forcing (the console does not
        # offer that) and without the test id (on screen already): it fits the flash line.
        raise IllegalTransition(f"cannot promote: {results.recommendation}")
    owner = engine.traffic_owner(test.model_id, environment=test.environment)
    if owner is not None and owner.id == test.id:
        owner = None
    return PromotePlan(plan, results.winner, results.recommendation, owner)


def start_promote(screen: ResourceScreen, test_id: str) -> None:
    """`P`: 100% of production to the winner, only when the analysis names one; the model's
    name is typed since the whole traffic moves."""
    engine = screen.engine

    def confirm(p: PromotePlan) -> None:
        test = p.plan.test

        def done(reason: str | None) -> None:
            if reason is None:
                screen.flash("promotion cancelled")
                return

            def call() -> DeploymentRevision:
                _unchanged(engine, p.plan)
                again = engine.analyze_test_results(test.id)
                if again.winner != p.winner:
                    raise Conflict(
                        f"the analysis changed while the dialog was open: {again.recommendation}"
                    )
                return engine.promote_winner(test.id, reason=reason)

            screen.act(
                call,
                lambda rev: (
                    f"promoted {p.winner}: {rev.model_id} production revision {rev.revision}"
                    f" serves {traffic(rev.traffic)}; test {test.name} completed"
                ),
            )

        lines = [
            f"model    {test.model_id}   test {test.id}",
            f"versions {', '.join(test.model_versions)}   control {test.model_versions[0]}",
            f"winner   {p.winner}   ({p.recommendation})",
            f"now      {p.plan.now_traffic}",
            f"after    {traffic({p.winner: 1.0})}",
            *owner_lines(p.owner),
            "",
            "The test ends (completed) and its results are frozen.",
        ]
        screen.app.push_screen(
            ConfirmScreen(
                f"Promote {p.winner} to 100% of {test.model_id} production?",
                lines,
                type_to_confirm=test.model_id,
                ask_reason=True,
                action_label="Promote",
            ),
            done,
        )

    screen.prepare(lambda: load_promote(engine, test_id), confirm)


# --- start / pause / stop -------------------------------------------------------------------


@dataclass(frozen=True)
class EndPlan:
    plan: TestPlan
    restored: dict[str, float] | None
    """The traffic from before the test (what stop and pause serve again), if known."""


def load_end(engine: Engine, test_id: str) -> EndPlan:
    plan = load_plan(engine, test_id)
    # Pause and stop return to the map the last start or resume replaced.
    starts = [r for r in engine.list_audit(action="abtest")
              if r.target == test_id and r.action in ("abtest.start", "abtest.resume")]  # fmt: skip
    last = max(starts, key=lambda r: r.seq, default=None)
    before = last.before if last else None
    restored = before.get("traffic") if isinstance(before, dict) else None
    return EndPlan(plan, restored if isinstance(restored, dict) else None)


def _restored_words(end: EndPlan) -> str:
    if end.restored:
        return f"{traffic(end.restored)} (the traffic from before the test)"
    return f"{end.plan.test.model_versions[0]} 100% (the control)"


def start_stop(screen: ResourceScreen, test_id: str) -> None:
    """`S`: end the test for good; production gets its pre-test traffic back."""
    engine = screen.engine

    def confirm(end: EndPlan) -> None:
        test = end.plan.test
        if (text := ended_test(test, "stop")) is not None:
            screen.flash(text, "warning")
            return

        def done(reason: str | None) -> None:
            if reason is None:
                screen.flash("stop cancelled")
                return

            def call() -> ABTest:
                _unchanged(engine, end.plan)
                return engine.stop_ab_test(test.id, reason=reason)

            screen.act(
                call,
                lambda t: ended_test(t, "stop") or f"test {t.name} on {t.model_id} stopped",
            )

        lines = [
            f"model    {test.model_id}   test {test.id} ({test.status})",
            f"versions {', '.join(test.model_versions)}   control {test.model_versions[0]}",
            f"split    {split_words(test.traffic_split, test.model_versions[0])}",
        ]
        if test.status is TestStatus.RUNNING:
            lines += [f"now      {end.plan.now_traffic}", f"after    {_restored_words(end)}"]
        else:
            lines.append(f"production traffic does not change: the test is {test.status}")
        lines += ["", "A stopped test cannot be started again; its results are frozen."]
        screen.app.push_screen(
            ConfirmScreen(
                f"Stop A/B test {test.name} on {test.model_id}?",
                lines,
                ask_reason=True,
                action_label="Stop test",
            ),
            done,
        )

    screen.prepare(lambda: load_end(engine, test_id), confirm)


def start_toggle(screen: ResourceScreen, test_id: str) -> None:
    """`space`: pause a running test (production gets its pre-test traffic back), or start /
    resume a draft or paused one (the test takes production traffic: confirmed first)."""
    engine = screen.engine

    def go(end: EndPlan) -> None:
        test = end.plan.test
        if (text := ended_test(test, "start or pause")) is not None:
            screen.flash(text, "warning")
            return
        if test.status is TestStatus.RUNNING:

            def pause() -> ABTest:
                _unchanged(engine, end.plan)
                return engine.pause_ab_test(test.id, reason="paused from the console")

            screen.act(
                pause,
                lambda t: (
                    ended_test(t, "pause")
                    or f"test {t.name} paused: {test.model_id} serves {_restored_words(end)}"
                ),
            )
            return
        if test.status not in (TestStatus.DRAFT, TestStatus.PAUSED):
            screen.flash(f"test {test.name} is {test.status}: it cannot run again", "warning")
            return
        verb = "Resume" if test.status is TestStatus.PAUSED else "Start"
        after = {v: p / 100 for v, p in test.traffic_split.items() if p > 0}

        def done(reason: str | None) -> None:
            if reason is None:
                screen.flash(f"{verb.lower()} cancelled")
                return

            def call() -> ABTest:
                _unchanged(engine, end.plan)
                return engine.start_ab_test(test.id, reason=reason)

            screen.act(
                call, lambda t: f"test {t.name} running: {t.model_id} serves {traffic(after)}"
            )

        lines = [
            f"model    {test.model_id}   test {test.id} ({test.status})",
            f"versions {', '.join(test.model_versions)}   control {test.model_versions[0]}",
            f"now      {end.plan.now_traffic}",
            f"after    {traffic(after)}",
        ]
        screen.app.push_screen(
            ConfirmScreen(
                f"{verb} A/B test {test.name} on {test.model_id}?",
                lines,
                action_label=verb,
            ),
            done,
        )

    screen.prepare(lambda: load_end(engine, test_id), go)
