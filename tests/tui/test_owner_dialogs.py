"""The model view's deploy dialog and rollout form name the A/B test or rollout that owns the
traffic they change, and the flash line says it ended."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.choice import ChoiceScreen
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.form import FormScreen
from app.tui.screens.model import ModelScreen
from core.abtesting import ABTestConfig
from core.domain import RolloutStatus, TestStatus
from core.engine import LocalEngine
from tests.tui.conftest import MODEL, drive, screen_text, wait_for
from tests.tui.test_model_view import open_model, select_version


def test_deploy_dialog_names_the_rollout_it_ends(fleet: LocalEngine) -> None:
    ro = fleet.start_rollout(
        MODEL, "v2", steps=[10, 100], interval_s=600, guardrails=["error_rate<0.5"]
    )
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_model(pilot)
        await select_version(pilot, "v3")
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert "(ends its rollout)" in screen_text(app)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = screen_text(app)
        assert f"owner    rollout {ro.id} (running)" in text
        assert "serves v1 90% · v2 10%" in text and "this change ends it as interrupted" in text
        await pilot.press(*"hotfix", "enter", *MODEL, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen))
        await wait_for(pilot, lambda: f"rollout {ro.id} interrupted" in screen_text(app))

    drive(app, script, size=(160, 30))
    after = fleet.get_rollout(MODEL)
    assert after.status is RolloutStatus.INTERRUPTED and "(deploy by" in after.reason
    assert fleet.get_deployment(MODEL).traffic == {"v3": 1.0}  # type: ignore[union-attr]


def test_rollout_form_names_the_ab_test_it_ends(fleet: LocalEngine) -> None:
    test = fleet.create_ab_test(
        ABTestConfig(model=MODEL, name="t", versions=["v1", "v2"], split={"v1": 50, "v2": 50})
    )
    fleet.start_ab_test(test.id)
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_model(pilot)
        await select_version(pilot, "v3")
        await pilot.press("O")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen))
        assert f"A/B test {test.id} (running) owns this traffic" in screen_text(app)
        assert "starting ends it as interrupted" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen))
        await wait_for(pilot, lambda: f"A/B test {test.id} interrupted" in screen_text(app))

    drive(app, script, size=(160, 30))
    assert fleet.get_ab_test(test.id).status is TestStatus.INTERRUPTED
    assert fleet.get_rollout(MODEL).status is RolloutStatus.RUNNING
