"""The audit view by keys: the fixture's actions newest first, filter and narrowing, the
selected record's before/after, and `v` verifying the chain (intact, then tampered with)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.audit import AuditScreen
from app.tui.screens.form import FormScreen
from app.tui.widgets.resource_table import ResourceTable
from core.engine import LocalEngine
from tests.tui.conftest import drive, screen_text, wait_for


def keys(app: Any) -> list[str]:
    table = app.screen.query_one(ResourceTable)
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


def actions(app: Any) -> list[str]:
    table = app.screen.query_one(ResourceTable)
    return [str(table.get_row_at(i)[3]) for i in range(table.row_count)]


async def open_audit(pilot: Pilot[Any], app: Any, count: int) -> None:
    await pilot.press("colon", *"audit", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen) and len(keys(app)) == count)


def test_timeline_newest_first_with_before_and_after(fleet: LocalEngine) -> None:
    app = create_console(fleet)
    total = len(fleet.list_audit())

    async def script(pilot: Pilot[Any]) -> None:
        await open_audit(pilot, app, total)
        assert keys(app) == [str(s) for s in range(total, 0, -1)]
        assert {"model.create", "version.register", "version.status", "deployment.deploy"} <= set(
            actions(app)
        )
        # Down to the deployment: its reason and its after (the traffic) below the table.
        deploy = actions(app).index("deployment.deploy")
        await pilot.press(*["down"] * deploy)
        await wait_for(pilot, lambda: "reason: first release" in screen_text(app))
        text = screen_text(app)
        assert "before" in text and "after" in text and '"revision": 1' in text

    drive(app, script)


def test_filter_narrows_the_rows(fleet: LocalEngine) -> None:
    app = create_console(fleet)
    total = len(fleet.list_audit())
    registers = len(fleet.list_audit(action="version.register"))

    async def script(pilot: Pilot[Any]) -> None:
        await open_audit(pilot, app, total)
        await pilot.press("slash", *"register", "enter")
        await wait_for(pilot, lambda: len(keys(app)) == registers)
        assert set(actions(app)) == {"version.register"}
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(keys(app)) == total)

    drive(app, script)


def test_narrowing_by_action(fleet: LocalEngine) -> None:
    app = create_console(fleet)
    total = len(fleet.list_audit())

    async def script(pilot: Pilot[Any]) -> None:
        await open_audit(pilot, app, total)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"deployment", "enter")
        await wait_for(pilot, lambda: actions(app) == ["deployment.deploy"])
        assert "action deployment" in screen_text(app)
        await pilot.press("escape")  # clears the narrowing
        await wait_for(pilot, lambda: len(keys(app)) == total)
        # `a`: the selected record's action family, asked of the engine as a prefix.
        await pilot.press("down", "down", "down")
        table = app.screen.query_one(ResourceTable)
        assert str(table.get_row_at(table.cursor_row)[3]) == "version.status"
        versions = len(fleet.list_audit(action="version"))
        await pilot.press("a")
        await wait_for(pilot, lambda: len(keys(app)) == versions)
        assert all(a.startswith("version.") for a in actions(app))
        assert {"version.register", "version.status"} <= set(actions(app))
        await pilot.press("a")
        await wait_for(pilot, lambda: len(keys(app)) == total)

    drive(app, script)


def test_narrow_by_actor(fleet: LocalEngine) -> None:
    bob = fleet.as_actor("test:bob")
    bob.set_alias("credit-default", "v2", "challenger", reason="bob's pick")
    app = create_console(fleet)
    total = len(fleet.list_audit())

    async def script(pilot: Pilot[Any]) -> None:
        await open_audit(pilot, app, total)
        assert "test:bob" in screen_text(app)
        await pilot.press("w")  # the newest record is bob's
        await wait_for(pilot, lambda: len(keys(app)) == 1)
        assert "actor test:bob" in screen_text(app)
        await pilot.press("w")
        await wait_for(pilot, lambda: len(keys(app)) == total)

    drive(app, script)


def test_verify_flashes_the_chain_intact(fleet: LocalEngine) -> None:
    app = create_console(fleet)
    total = len(fleet.list_audit())

    async def script(pilot: Pilot[Any]) -> None:
        await open_audit(pilot, app, total)
        await pilot.press("v")
        await wait_for(pilot, lambda: f"audit chain intact: {total} records" in screen_text(app))

    drive(app, script)


def test_verify_names_a_tampered_record(fleet: LocalEngine) -> None:
    with fleet.store.write() as conn:
        conn.execute("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 8")
    app = create_console(fleet)
    total = len(fleet.list_audit())

    async def script(pilot: Pilot[Any]) -> None:
        await open_audit(pilot, app, total)
        await pilot.press("v")
        await wait_for(pilot, lambda: "error: audit chain BROKEN at record 8" in screen_text(app))
        await wait_for(pilot, lambda: "8 BROKEN" in screen_text(app))

    drive(app, script)


def test_audit_fits_80_by_24(fleet: LocalEngine) -> None:
    app = create_console(fleet)
    total = len(fleet.list_audit())

    async def script(pilot: Pilot[Any]) -> None:
        await open_audit(pilot, app, total)
        await wait_for(pilot, lambda: "before" in screen_text(app))
        text = screen_text(app)
        for word in ("SEQ", "ACTION", "version.register", "Verify", "after"):
            assert word in text, word

    drive(app, script, size=(80, 24))
