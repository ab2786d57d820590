"""A console on a remote owner with a viewer token offers no action that changes anything."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from textual.pilot import Pilot

from app.api.factory import create_app
from app.client import RemoteEngine
from app.tui.launch import create_console
from app.tui.screens.fleet import FleetScreen
from core.engine import LocalEngine
from tests.tui.conftest import MODEL, drive, screen_text, wait_for


def remote_as(fleet: LocalEngine, role: str) -> RemoteEngine:
    _, secret = fleet.create_token(f"{role}-console", role)
    client = TestClient(create_app(fleet, require_auth=True), raise_server_exceptions=False)
    return RemoteEngine(http=client, token=secret)


def test_viewer_token_makes_the_console_read_only(fleet: LocalEngine) -> None:
    remote = remote_as(fleet, "viewer")
    app = create_console(remote)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: "[read-only]" in screen_text(app))
        assert "v1 100%" in screen_text(app)  # it reads
        assert "Rollback" not in screen_text(app)
        await pilot.press("R")
        await pilot.pause(0.3)
        assert isinstance(app.screen, FleetScreen)

    drive(app, script)
    remote.close()
    assert fleet.get_deployment(MODEL).revision == 1  # type: ignore[union-attr]


def test_operator_token_may_act(fleet: LocalEngine) -> None:
    remote = remote_as(fleet, "operator")
    app = create_console(remote)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: "v1 100%" in screen_text(app))
        await pilot.pause(0.3)
        assert "Rollback" in screen_text(app) and "[read-only]" not in screen_text(app)

    drive(app, script)
    remote.close()
