import time, asyncio
from typing import Any
import pytest
from tests.tui.test_abtest_view import *  # noqa

def test_dbg(fleet, ab):
    app = create_console(fleet)
    async def script(pilot):
        t0=time.monotonic()
        await pilot.press("colon", *f"ab {ab}", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ABTestDetailScreen))
        print("detail pushed", time.monotonic()-t0)
        await wait_for(pilot, lambda: "advice" in screen_text(app))
        print("advice", time.monotonic()-t0)
        print(screen_text(app))
        await enter_split(pilot, app, "70,30")
        print("form", time.monotonic()-t0)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        print("confirm", time.monotonic()-t0)
        print(screen_text(app))
        await pilot.press(*"more to v1", "enter")
        await wait_for(pilot, lambda: fleet.get_ab_test(ab).traffic_split == {"v1": 70, "v2": 30})
        print("stored", time.monotonic()-t0)
        await wait_for(pilot, lambda: "split now" in screen_text(app))
        print("flash", time.monotonic()-t0)
        await pilot.pause(0.5)
        print(screen_text(app))
    drive(app, script, size=(80,24))
