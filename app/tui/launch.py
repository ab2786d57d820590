"""Building and running the console: one factory for `mlc console`, `mlc demo` and the tests."""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing import resource_tracker
from typing import TYPE_CHECKING

from app.tui.app import MlcConsole, Startup

if TYPE_CHECKING:
    from core.engine import Engine


def create_console(
    engine: Engine | Callable[[], Engine], *, read_only: bool = False, startup: Startup | None = None,
    title: str = "mlc console",
) -> MlcConsole:  # fmt: skip
    # Training workers are multiprocessing children, and multiprocessing's resource tracker
    # passes stderr's descriptor to the process it starts on first use. Inside the running app
    # stderr is Textual's capture (fileno -1), so start the tracker now, while stdio is real.
    resource_tracker.ensure_running()
    console = MlcConsole(engine, read_only=read_only, startup=startup)
    console.title = title
    return console


def run_console(
    engine: Engine | Callable[[], Engine], *, read_only: bool = False, startup: Startup | None = None,
    title: str = "mlc console",
) -> None:  # fmt: skip
    """Run the console in this terminal until the operator quits."""
    create_console(engine, read_only=read_only, startup=startup, title=title).run()
