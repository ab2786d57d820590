"""The rollout view: steps, weights and guardrail analyses; pause, resume, promote, abort."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.rollout import RolloutScreen
from core.clock import utcnow
from core.domain import RolloutStatus
from core.engine import LocalEngine
from tests.tui.conftest import MODEL, drive, screen_text, wait_for

GUARDRAILS = ["error_rate<0.02", "latency_p99_ms<50"]


def start_rollout(engine: LocalEngine) -> None:
    engine.start_rollout(
        MODEL, "v2", steps=[5, 25, 50, 100], interval_s=600, guardrails=GUARDRAILS,
        reason="canary v2",
    )  # fmt: skip


async def open_rollout(pilot: Pilot[Any], typed: bool = False) -> None:
    """`:rollout credit-default`, or `o` on the fleet's selected row (credit-default)."""
    app = pilot.app
    await wait_for(pilot, lambda: MODEL in screen_text(app))  # the fleet knows the models
    if typed:
        await pilot.press("colon", *f"rollout {MODEL}", "enter")
    else:
        await pilot.press("o")
    await wait_for(pilot, lambda: isinstance(app.screen, RolloutScreen))
    await wait_for(pilot, lambda: app.screen.last_data is not None)


def test_no_rollout_is_said_plainly(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_rollout(pilot, typed=True)
        await pilot.pause(1.2)  # a second poll: still no error
        text = screen_text(app)
        assert "no rollout for credit-default" in text
        assert "error" not in text

    drive(app, script, size=(80, 24))


def test_steps_weights_and_guardrail_analyses_are_shown(fleet: LocalEngine) -> None:
    start_rollout(fleet)
    # The step's interval has passed: the controller measures the canary, which has no traffic
    # of its own yet, so every guardrail is inconclusive and the rollout pauses for a human.
    fleet.rollouts.tick(now=utcnow() + timedelta(seconds=601))
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_rollout(pilot)
        text = screen_text(app)
        assert "v2 canary on credit-default production" in text and "PAUSED" in text
        assert "[5] → 25 → 50 → 100" in text and "canary now 5% (step 1 of 4)" in text
        assert "v1 95% · v2 5%" in text and "stable before: v1 100%" in text
        assert "failures 0 of limit 0" in text and "interval 10m" in text
        assert "error_rate<0.02" in text and "latency_p99_ms<50" in text
        assert text.count("inconclusive") >= 2 and "pause" in text

    drive(app, script)


def test_pause_resume_and_abort_by_keys(fleet: LocalEngine) -> None:
    start_rollout(fleet)
    app = create_console(fleet)

    def status() -> RolloutStatus:
        return fleet.get_rollout(MODEL).status

    async def script(pilot: Pilot[Any]) -> None:
        await open_rollout(pilot)
        assert "RUNNING" in screen_text(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: status() == RolloutStatus.PAUSED)
        await wait_for(pilot, lambda: "PAUSED" in screen_text(app))
        await pilot.press("r")
        await wait_for(pilot, lambda: status() == RolloutStatus.RUNNING)
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = screen_text(app)
        assert "Abort the rollout of credit-default v2?" in text
        assert "now      v1 95% · v2 5%" in text and "after    v1 100%" in text
        await pilot.press("y")
        await wait_for(pilot, lambda: status() == RolloutStatus.ABORTED)
        await wait_for(pilot, lambda: "ABORTED" in screen_text(app))

    drive(app, script)
    current = fleet.get_deployment(MODEL)
    assert current is not None and current.traffic == {"v1": 1.0} and current.kind == "abort"
    actions = [r.action for r in fleet.list_audit(model=MODEL)]
    assert {"rollout.pause", "rollout.resume", "rollout.abort"} <= set(actions)


def test_promote_needs_the_model_name(fleet: LocalEngine) -> None:
    start_rollout(fleet)
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_rollout(pilot)
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "after    v2 100%" in screen_text(app)
        await pilot.press(*"ok", "enter", *MODEL, "enter")
        await wait_for(pilot, lambda: "COMPLETED" in screen_text(app))

    drive(app, script)
    assert fleet.get_rollout(MODEL).status == RolloutStatus.COMPLETED
    current = fleet.get_deployment(MODEL)
    assert current is not None and current.traffic == {"v2": 1.0}


def test_read_only_rollout_view_offers_no_change(fleet: LocalEngine) -> None:
    start_rollout(fleet)
    app = create_console(fleet, read_only=True)

    async def script(pilot: Pilot[Any]) -> None:
        await open_rollout(pilot)
        text = screen_text(app)
        for word in ("Pause", "Resume", "Promote", "Abort"):
            assert word not in text
        await pilot.press("p", "A")
        await pilot.pause(0.3)
        assert isinstance(app.screen, RolloutScreen)

    drive(app, script, size=(120, 30))
    assert fleet.get_rollout(MODEL).status == RolloutStatus.RUNNING


def test_an_interrupted_rollout_says_why_and_its_keys_change_nothing(fleet: LocalEngine) -> None:
    start_rollout(fleet)
    fleet.deploy(MODEL, "v3", reason="hotfix")
    history = fleet.deployment_history(MODEL)
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_rollout(pilot, typed=True)
        await wait_for(pilot, lambda: "INTERRUPTED" in screen_text(app))
        text = screen_text(app)
        assert "why      interrupted by credit-default production revision 3 (deploy by" in text
        for key, action in (("A", "abort"), ("p", "pause"), ("P", "promote")):
            await pilot.press(key)
            await wait_for(pilot, lambda a=action: "has ended, interrupted by" in
                           screen_text(app) and f"nothing to {a}" in screen_text(app))  # fmt: skip
            assert isinstance(app.screen, RolloutScreen)  # no dialog

    drive(app, script, size=(160, 30))
    assert fleet.get_rollout(MODEL).status is RolloutStatus.INTERRUPTED
    assert fleet.deployment_history(MODEL) == history
