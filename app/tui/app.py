"""The console application: the screen stack, the command bar's routes, the engine."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from app.tui.messages import ActionDone
from app.tui.palette import MlcCommands
from app.tui.routes import Route, find_route
from core.engine import Engine
from core.errors import MlcError

Startup = Callable[[Callable[[str], None]], object]
"""Work to do once the console shows (the demo's scenario); it reports through `progress`."""


class MlcConsole(App[None]):
    CSS_PATH = "console.tcss"
    TITLE = "mlc console"
    COMMANDS: ClassVar = App.COMMANDS | {MlcCommands}
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit"),
    ]

    def __init__(
        self, engine: Engine, *, read_only: bool = False, startup: Startup | None = None
    ) -> None:
        super().__init__()
        self.engine = engine
        self.read_only = read_only
        self._startup = startup
        self.known_models: list[str] = []
        """Model names from the last fleet poll: completions for `:live NAME` and the palette."""

    def on_mount(self) -> None:
        from app.tui.screens.fleet import FleetScreen

        self.push_screen(FleetScreen())
        if self._startup is not None:
            self._run_startup(self._startup)

    @work(thread=True, group="startup", exit_on_error=False)
    def _run_startup(self, startup: Startup) -> None:
        def progress(text: str) -> None:
            self.call_from_thread(self._flash, text)

        try:
            startup(progress)
        except MlcError as e:
            self.call_from_thread(self._flash, f"demo set-up failed: {e}", True)

    def _flash(self, text: str, error: bool = False) -> None:
        self.screen.post_message(ActionDone(text, ok=not error))

    # --- navigation ---------------------------------------------------------------------

    def go_back(self) -> None:
        # The bottom of the stack is Textual's default screen, then the fleet: never pop those.
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def run_command(self, text: str) -> None:
        """What the `:` bar does with `text` (`models`, `live credit-default`, `q`)."""
        try:
            words = shlex.split(text.strip().lstrip(":"))
        except ValueError:
            words = text.split()
        if not words:
            return
        head, args = words[0].lower(), words[1:]
        if head in ("q", "q!", "quit", "exit"):
            self.exit()
            return
        if head in ("help", "h"):
            self.run_worker(self.screen.run_action("help"))
            return
        route = find_route(head)
        if route is None:
            self._flash(f"no view named {head!r}: try :models, :ab, :alerts, :audit, :jobs", True)
            return
        self.open_route(route, args[0] if args else None)

    def open_route(self, route: Route, arg: str | None = None) -> None:
        from app.tui.screens.base import ResourceScreen

        if route.name == "fleet":
            while len(self.screen_stack) > 2:
                self.pop_screen()
            return
        kwargs: dict[str, str] = {}
        if route.takes_model:
            model = arg
            if model is None and isinstance(self.screen, ResourceScreen):
                model = self.screen.selected_model()
            if model is None:
                self._flash(f"which model? :{route.name} MODEL", True)
                return
            if self.known_models and model not in self.known_models:
                self._flash(f"no model named {model!r}", True)
                return
            kwargs["model"] = model
        elif route.takes_id and arg is not None:
            kwargs["item_id"] = arg
        self.push_screen(self.build_screen(route, **kwargs))

    def build_screen(self, route: Route, **kwargs: str) -> Screen[None]:
        return route.load()(**kwargs)

    def completion_words(self) -> list[str]:
        words = []
        for model in self.known_models:
            words += [f"{view} {model}" for view in ("model", "live", "drift", "rollout")]
        return words
