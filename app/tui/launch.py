"""Building and running the console: one factory for `mlc console`, `mlc demo` and the tests."""

from __future__ import annotations

from app.tui.app import MlcConsole, Startup
from core.engine import Engine


def create_console(
    engine: Engine, *, read_only: bool = False, startup: Startup | None = None,
    title: str = "mlc console",
) -> MlcConsole:  # fmt: skip
    console = MlcConsole(engine, read_only=read_only, startup=startup)
    console.title = title
    return console


def run_console(
    engine: Engine, *, read_only: bool = False, startup: Startup | None = None,
    title: str = "mlc console",
) -> None:  # fmt: skip
    """Run the console in this terminal until the operator quits."""
    create_console(engine, read_only=read_only, startup=startup, title=title).run()


def viewer_only(engine: Engine) -> bool:
    """True when the engine's caller may only read (a viewer token on a remote owner)."""
    role = getattr(engine, "role", None)
    return role == "viewer"
