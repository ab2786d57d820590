"""Console tests: a real store with traffic, a real Textual app driven by Pilot."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot

from core.engine import LocalEngine
from core.names import features_spec

MODEL = "credit-default"

Script = Callable[[Pilot[Any]], Awaitable[None]]


def features(i: int) -> dict[str, object]:
    return {"age": 20 + i % 50, "region": ("north", "south", "east")[i % 3]}


@pytest.fixture
def fleet(engine: LocalEngine, artifact_bytes: bytes) -> LocalEngine:
    """credit-default with three validated versions, v1 in production, and some labelled
    traffic; a second model, fraud-score, with one version and nothing deployed."""
    return populate_fleet(engine, artifact_bytes)


def populate_fleet(engine: Any, artifact_bytes: bytes) -> Any:
    """What the `fleet` fixture holds, on any engine (an owned store's, say)."""
    engine.create_model(
        MODEL, "classification", target="default",
        features=features_spec("age:numeric,region:categorical"),
    )  # fmt: skip
    for _ in range(3):
        engine.register_version(MODEL, artifact_bytes, algorithm="logistic_regression")
    for v in ("v1", "v2", "v3"):
        engine.transition_version(MODEL, v, "validated")
    engine.deploy(MODEL, "v1", reason="first release")
    predictions = engine.predict(
        MODEL, [{"request_id": f"r{i}", "unit_id": f"u{i}", "features": features(i)}
                for i in range(200)],
    )  # fmt: skip
    engine.record_actuals(
        MODEL, [{"request_id": p.request_id, "actual": i % 2} for i, p in enumerate(predictions)]
    )
    engine.create_model(
        "fraud-score", "classification", target="fraud",
        features=features_spec("age:numeric,region:categorical"),
    )  # fmt: skip
    engine.register_version("fraud-score", artifact_bytes, algorithm="logistic_regression")
    return engine


def drive(app: Any, script: Script, size: tuple[int, int] = (100, 30)) -> None:
    """Run `app` headless at `size` and play `script` on it (plain sync tests, no plugin)."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await script(pilot)

    asyncio.run(main())


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], timeout_s: float = 30) -> None:
    """Let the app run until `condition()` holds (workers post back asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await pilot.pause(0.05)


async def settled(pilot: Pilot[Any], app: Any, timeout_s: float = 10) -> None:
    """Let the app run until two renders 0.1 s apart read the same (tables widen their
    columns a refresh after filling them; under load that in-between frame lingers)."""
    deadline = time.monotonic() + timeout_s
    before = screen_text(app)
    while True:
        await pilot.pause(0.1)
        now = screen_text(app)
        if now == before or time.monotonic() > deadline:
            return
        before = now


def screen_text(app: Any) -> str:
    """Everything the screen shows now, as plain text: what a person reads."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()
