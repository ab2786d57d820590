"""The console application: the screen stack, the command bar's routes, the engine."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from app.tui.messages import ActionDone
from app.tui.palette import MlcCommands
from app.tui.routes import Route, find_route
from core.errors import MlcError

if TYPE_CHECKING:
    from core.engine import Engine

Startup = Callable[[Callable[[str], None]], object]
"""Work to do once the console shows (the demo's scenario); it reports through `progress`."""


class _PendingEngine:
    """The engine-to-be: `engine.method` is a callable that waits for the engine when called."""

    def __init__(self, future: Future[Engine]) -> None:
        self._future = future

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(self._future.result(), name)(*args, **kwargs)

        return call


def viewer_only(engine: Engine) -> bool:
    """True when the engine's caller may only read (a viewer token on a remote owner)."""
    return getattr(engine, "role", None) == "viewer"


class MlcConsole(App[None]):
    CSS_PATH = "console.tcss"
    TITLE = "mlc console"
    COMMANDS: ClassVar = App.COMMANDS | {MlcCommands}
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit"),
    ]

    def __init__(
        self,
        engine: Engine | Callable[[], Engine],
        *,
        read_only: bool = False,
        startup: Startup | None = None,
    ) -> None:
        """`engine` may be a function that opens it: the console then draws its first frame
        at once and opens the store (imports, migrations, becoming the owner) in a thread."""
        super().__init__()
        self._engine: Future[Engine] = Future()
        self._open = engine if callable(engine) else None
        if not callable(engine):
            self._engine.set_result(engine)
        self.read_only = read_only
        self._startup = startup
        self.known_models: list[str] = []
        """Model names from the last fleet poll: completions for `:live NAME` and the palette."""

    @property
    def engine(self) -> Engine:
        """The engine. While the store is still opening this is a stand-in whose methods
        wait for it when called, so reading `self.engine` on the event loop never blocks;
        the calls themselves belong in worker threads anyway."""
        if self._engine.done():
            return self._engine.result()
        return _PendingEngine(self._engine)  # type: ignore[return-value]

    def on_mount(self) -> None:
        from app.tui.screens.fleet import FleetScreen

        self.push_screen(FleetScreen())
        self._start(self._open, self._startup)

    @work(thread=True, group="startup", exit_on_error=False)
    def _start(self, open_engine: Callable[[], Engine] | None, startup: Startup | None) -> None:
        def progress(text: str) -> None:
            self.call_from_thread(self._flash, text)

        if open_engine is None:
            if not self.read_only and viewer_only(self._engine.result()):
                self.call_from_thread(self.set_read_only)
        else:
            try:
                self._engine.set_result(open_engine())
            except BaseException as e:  # the console cannot work without its engine
                self._engine.set_exception(e)
                message = str(e) if isinstance(e, MlcError) else f"{type(e).__name__}: {e}"
                self.call_from_thread(self.exit, None, 1, f"error: {message}")
                return
            if not self.read_only and viewer_only(self._engine.result()):
                self.call_from_thread(self.set_read_only)
        if startup is not None:
            try:
                startup(progress)
            except Exception as e:
                from app.tui.screens.base import describe_error

                self.call_from_thread(self._flash, f"set-up failed: {describe_error(e)}", True)

    def set_read_only(self) -> None:
        self.read_only = True
        self.screen.refresh_bindings()

    def opened_engine(self) -> Engine | None:
        """The engine if it is open by now (for closing it), else None."""
        if self._engine.done() and self._engine.exception() is None:
            return self._engine.result()
        return None

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
