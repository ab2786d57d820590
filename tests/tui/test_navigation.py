"""Moving around the console by keys: `:` jumps, `esc` goes back, `/` filters, `?` helps."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.fleet import FleetScreen
from app.tui.screens.help import HelpScreen
from app.tui.widgets.resource_table import ResourceTable
from core.clock import utcnow
from core.engine import LocalEngine
from core.names import features_spec
from tests.conftest import add_versions
from tests.tui.conftest import MODEL, drive, screen_text, wait_for


def table_keys(app: Any) -> list[str]:
    table = app.screen.query_one(ResourceTable)
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


def test_fleet_shows_every_model_with_its_traffic(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: len(table_keys(app)) == 2)
        # The table sizes its columns to new cells on the next refresh, not at once.
        await wait_for(pilot, lambda: "fraud-score" in screen_text(app))
        text = screen_text(app)
        assert "credit-default" in text and "fraud-score" in text
        assert "v1 100%" in text
        assert "fleet" in text  # breadcrumbs

    drive(app, script)


def test_filter_narrows_rows_and_esc_clears_it(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: len(table_keys(app)) == 2)
        await pilot.press("slash", *"fraud", "enter")
        await wait_for(pilot, lambda: table_keys(app) == ["fraud-score"])
        assert "/fraud" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(table_keys(app)) == 2)

    drive(app, script)


def test_help_lists_the_keys_of_the_current_view(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: len(table_keys(app)) == 2)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        assert "Roll production back" in text
        assert ":alerts" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))

    drive(app, script)


def test_command_bar_rejects_an_unknown_view(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: len(table_keys(app)) == 2)
        await pilot.press("colon", *"nosuch", "enter")
        await wait_for(pilot, lambda: "no view named 'nosuch'" in screen_text(app))
        assert isinstance(app.screen, FleetScreen)

    drive(app, script)


def test_read_only_offers_no_rollback(fleet: LocalEngine) -> None:
    app = create_console(fleet, read_only=True)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: len(table_keys(app)) == 2)
        assert "Rollback" not in screen_text(app)
        assert "read-only" in screen_text(app)
        await pilot.press("R")
        await pilot.pause(0.2)
        assert isinstance(app.screen, FleetScreen)
        assert fleet.get_deployment(MODEL) is not None

    drive(app, script)


def test_command_palette_offers_noun_verb_commands(fleet: LocalEngine) -> None:
    from textual.command import CommandPalette

    from app.tui.screens.alerts import AlertsScreen

    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: len(table_keys(app)) == 2)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"alerts: open")
        await wait_for(pilot, lambda: "alerts: open" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await pilot.press("ctrl+p", *"fleet: roll")
        await wait_for(pilot, lambda: "fleet: rollback" in screen_text(app))

    drive(app, script)


def test_esc_walks_back_through_the_views(fleet: LocalEngine) -> None:
    from app.tui.screens.audit import AuditScreen
    from app.tui.screens.live import LiveScreen

    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: len(table_keys(app)) == 2)
        await pilot.press("colon", *"audit", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))
        await pilot.press("colon", *f"live {MODEL}", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
        assert "fleet › audit › live" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))
        await pilot.press("colon", *"models", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await pilot.press("escape")  # the fleet is the root: esc stays
        await pilot.pause(0.2)
        assert isinstance(app.screen, FleetScreen)

    drive(app, script)


def test_the_fleet_names_its_interval_and_a_stop_reads_zero(engine: LocalEngine) -> None:
    """At 80×24: `steady` serves throughout, `stopped` stopped 65 s ago, `started` began 20 s
    ago (times in the past, through the real ingest path)."""
    now = utcnow()
    for name, ages in (("steady", range(180, 0, -1)), ("stopped", range(180, 65, -1)),
                       ("started", range(20, 0, -1))):  # fmt: skip
        engine.create_model(name, "classification",
                            features=features_spec("age:numeric,region:categorical"))  # fmt: skip
        add_versions(engine, name, 1)
        engine.log_events(name, [
            {"request_id": f"{name}{a}.{k}", "version": "v1", "prediction": 1, "latency_ms": 5.0,
             "ts": (now - timedelta(seconds=a - k / 4)).isoformat()}
            for a in ages for k in range(4)
        ])  # fmt: skip
    app = create_console(engine)

    def row(name: str) -> list[str]:
        return next(line for line in screen_text(app).splitlines() if f" {name} " in line).split()

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: len(table_keys(app)) == 3)
        await wait_for(pilot, lambda: "stopped" in screen_text(app))
        text = screen_text(app)
        assert "production, last 60 s · drift: last 5 min" in text
        assert "3 models · 0 firing alerts" in text
        assert row("stopped")[:3] == ["stopped", "—", "0.0"]
        # 4/s, a little under as the screen polls some seconds after `now` (more on a busy
        # host): over the whole minute, and since it began, not a third of it (80 / 60).
        assert 2.5 <= float(row("steady")[2]) <= 4.0
        assert 2.0 <= float(row("started")[2]) <= 4.0
        while app.screen.query_one(ResourceTable).selected_key != "started":
            await pilot.press("down")
        await wait_for(pilot, lambda: "traffic began inside the window" in screen_text(app))
        assert re.search(r"started: .* req/s over [234]\d s", screen_text(app))

    drive(app, script, size=(80, 24))
