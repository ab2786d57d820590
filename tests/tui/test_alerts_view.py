"""The alerts view by keys: a rule firing on the fixture's traffic, its history, acknowledge,
silence, the rules table and enabling/disabling a rule."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.alerts import AlertsScreen
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.form import FormScreen
from app.tui.widgets.resource_table import ResourceTable
from core.domain import AlertState
from core.engine import LocalEngine
from tests.tui.conftest import MODEL, drive, screen_text, wait_for


@pytest.fixture
def firing(fleet: LocalEngine) -> str:
    """A critical rule that holds on the fixture's traffic (no request failed), evaluated once:
    one firing alert. Returns the rule id."""
    rule = fleet.create_alert_rule(
        MODEL, "error_rate", ">=", 0, window_s=300, for_s=0, severity="critical"
    )
    fleet.evaluate_alerts()
    return rule.id


def rows(app: Any, table_id: str = "#alerts-table") -> int:
    return int(app.screen.query_one(table_id, ResourceTable).row_count)


async def open_alerts(pilot: Pilot[Any], app: Any, count: int = 1) -> None:
    await pilot.press("colon", *"alerts", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen) and rows(app) == count)


def test_a_firing_alert_is_listed_with_its_history(fleet: LocalEngine, firing: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_alerts(pilot, app)
        await wait_for(pilot, lambda: "→ firing" in screen_text(app))
        text = screen_text(app)
        assert "FIRING" in text and "CRITICAL" in text  # in words, not only colour
        assert MODEL in text and "error_rate >= 0" in text
        assert f"rule {firing}" in text
        await pilot.press("r")  # resolved only: none
        await wait_for(pilot, lambda: rows(app) == 0)
        assert "no alert in this state" in screen_text(app)
        await pilot.press("f")
        await wait_for(pilot, lambda: rows(app) == 1)

    drive(app, script)


def test_a_new_firing_alert_shows_within_seconds(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_alerts(pilot, app, count=0)
        fleet.create_alert_rule(MODEL, "accuracy", "<", 0.99, window_s=300)
        fleet.evaluate_alerts()
        await wait_for(pilot, lambda: rows(app) == 1, timeout_s=4)
        assert "accuracy < 0.99" in screen_text(app)

    drive(app, script)


def test_acknowledge_with_a_comment(fleet: LocalEngine, firing: str) -> None:
    app = create_console(fleet)
    [alert] = fleet.list_alerts(state="firing")

    async def script(pilot: Pilot[Any]) -> None:
        await open_alerts(pilot, app)
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("enter")  # no comment: refused in the dialog
        await wait_for(pilot, lambda: "a comment is required" in screen_text(app))
        await pilot.press(*"on it", "enter")
        await wait_for(pilot, lambda: fleet.list_alerts(state="firing")[0].acknowledged)
        await wait_for(pilot, lambda: "test:alice: on it" in screen_text(app))
        await wait_for(pilot, lambda: "acknowledged by test:alice: on it" in screen_text(app))

    drive(app, script)
    [acked] = fleet.list_alerts(state="firing")
    assert acked.id == alert.id and acked.state is AlertState.FIRING
    assert acked.acked_by == "test:alice" and acked.ack_comment == "on it"
    [record] = fleet.list_audit(action="alert.ack")
    assert record.target == alert.id and record.reason == "on it"


def test_silence_the_rule_for_two_hours(fleet: LocalEngine, firing: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_alerts(pilot, app)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("tab", "tab", *"deploy", "enter")
        await wait_for(pilot, lambda: bool(fleet.list_silences(active_only=True)))
        await wait_for(pilot, lambda: "silenced until" in screen_text(app))

    drive(app, script)
    [silence] = fleet.list_silences(active_only=True)
    assert silence.rule_id == firing and silence.comment == "deploy"
    assert round((silence.ends_at - silence.starts_at).total_seconds()) == 7200


def test_rules_table_and_disabling_a_rule(fleet: LocalEngine, firing: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_alerts(pilot, app)
        await pilot.press("tab")
        await wait_for(pilot, lambda: rows(app, "#alerts-rules") == 1)
        text = screen_text(app)
        assert "THRESHOLD" in text and "error_rate" in text and "5m" in text
        await pilot.press("space")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "1 alert(s) of this rule close" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: not fleet.list_alert_rules()[0].is_active)
        await wait_for(pilot, lambda: "NO" in screen_text(app))
        await pilot.press("space")  # enabling needs no confirmation
        await wait_for(pilot, lambda: fleet.list_alert_rules()[0].is_active)
        await pilot.press("u")
        await wait_for(pilot, lambda: app.screen.query_one("#alerts-table").display)

    drive(app, script)
    actions = [r.action for r in fleet.list_audit(action="alert.rule")]
    assert actions == ["alert.rule.create", "alert.rule.disable", "alert.rule.enable"]
    assert not fleet.list_alerts(state="open")  # disabling closed the firing alert


def test_read_only_offers_no_ack_silence_or_toggle(fleet: LocalEngine, firing: str) -> None:
    app = create_console(fleet, read_only=True)

    async def script(pilot: Pilot[Any]) -> None:
        await open_alerts(pilot, app)
        text = screen_text(app)
        assert "Ack" not in text and "Silence" not in text
        await pilot.press("k", "x")
        await pilot.pause(0.2)
        assert isinstance(app.screen, AlertsScreen)
        await pilot.press("tab")
        await wait_for(pilot, lambda: rows(app, "#alerts-rules") == 1)
        assert "On/off" not in screen_text(app)
        await pilot.press("space")
        await pilot.pause(0.2)
        assert isinstance(app.screen, AlertsScreen)

    drive(app, script)
    assert fleet.list_alert_rules()[0].is_active
    assert not fleet.list_alerts(state="firing")[0].acknowledged
    assert not fleet.list_silences()


def test_alerts_fit_80_by_24(fleet: LocalEngine, firing: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_alerts(pilot, app)
        await wait_for(pilot, lambda: "→ firing" in screen_text(app))
        text = screen_text(app)
        for word in ("FIRING", "credit-default", "error_rate >= 0", "CRITICAL", "Ack"):
            assert word in text, word

    drive(app, script, size=(80, 24))
