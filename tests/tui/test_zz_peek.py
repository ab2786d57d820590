from typing import Any
from textual.pilot import Pilot
from app.tui.launch import create_console
from app.tui.screens.form import FormScreen
from tests.tui.conftest import MODEL, drive, screen_text, wait_for
from tests.tui.test_model_view import open_model, select_version

def test_peek(fleet):
    app = create_console(fleet)
    async def script(pilot: Pilot[Any]) -> None:
        await open_model(pilot)
        await select_version(pilot, "v2")
        await pilot.press("O")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("tab", "end", "backspace", "x", "enter")
        await pilot.pause(0.5)
        print(screen_text(app))
        print(app.screen.focused)
    drive(app, script, size=(80, 24))
