"""A production rollback from the fleet: the dialog names the traffic now and after, and only
the typed model name (with a reason) confirms it."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button

from app.tui.launch import create_console
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.fleet import FleetScreen
from core.abtesting import ABTestConfig
from core.domain import TestStatus
from core.engine import LocalEngine
from tests.tui.conftest import MODEL, drive, screen_text, wait_for


def test_rollback_needs_the_typed_model_name(fleet: LocalEngine) -> None:
    fleet.deploy(MODEL, "v2", reason="v2 to everyone")
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: "v2 100%" in screen_text(app))
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = screen_text(app)
        assert f"Roll back {MODEL} in production?" in text
        assert "revision 2: v2 100%" in text and "revision 3: v1 100%" in text
        await pilot.press(*"v2 is slow", "tab")
        await pilot.press(*"credit-defaul", "y")  # a near miss, and `y` is just a letter here
        assert app.screen.query_one("#confirm", Button).disabled
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert fleet.get_deployment(MODEL).revision == 2  # type: ignore[union-attr]
        await pilot.press("backspace", "t")
        assert not app.screen.query_one("#confirm", Button).disabled
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await wait_for(pilot, lambda: "rolled back credit-default" in screen_text(app))
        await wait_for(pilot, lambda: "v1 100%" in screen_text(app))

    drive(app, script)
    current = fleet.get_deployment(MODEL)
    assert current is not None and current.traffic == {"v1": 1.0} and current.revision == 3
    record = fleet.list_audit(limit=1)[0]
    assert record.action == "deployment.rollback" and record.reason.endswith("v2 is slow")


def test_cancelled_rollback_changes_nothing(fleet: LocalEngine) -> None:
    fleet.deploy(MODEL, "v2", reason="v2 to everyone")
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: "v2 100%" in screen_text(app))
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: "rollback of credit-default cancelled" in screen_text(app))

    drive(app, script)
    assert fleet.get_deployment(MODEL).revision == 2  # type: ignore[union-attr]


def test_rollback_names_the_ab_test_it_ends(fleet: LocalEngine) -> None:
    test = fleet.create_ab_test(
        ABTestConfig(
            model=MODEL, name="v2 vs v1", versions=["v1", "v2"], split={"v1": 50, "v2": 50}
        )
    )
    fleet.start_ab_test(test.id)
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: "v1 50% · v2 50%" in screen_text(app))
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = screen_text(app)
        assert f"owner    A/B test {test.id} (running)" in text
        assert "serves v1 50% · v2 50%" in text and "this change ends it as interrupted" in text
        await pilot.press(*"v2 hurts", "tab", *MODEL, "enter")
        await wait_for(pilot, lambda: f"A/B test {test.id} interrupted" in screen_text(app))

    drive(app, script, size=(160, 30))
    ended = fleet.get_ab_test(test.id)
    assert ended.status is TestStatus.INTERRUPTED and "(rollback by" in ended.reason
    assert fleet.get_deployment(MODEL).traffic == {"v1": 1.0}  # type: ignore[union-attr]
