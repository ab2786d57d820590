"""What every console view shares: breadcrumbs, the `:` and `/` bars, the flash line, the
footer, a self-rescheduling poll in a thread worker, and actions run off the event loop.

A view declares `fetch()` (runs in a thread: engine calls only) and `show(data)` (runs on the
event loop: widgets only). The next poll is scheduled only after a result is shown, so polls
never overlap, and it stops while the view is covered (a dialog, another view) or hidden.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Input

from app.tui.messages import ActionDone, Loaded, LoadFailed
from app.tui.routes import route_words
from app.tui.widgets.crumbs import Crumbs
from app.tui.widgets.flash import Flash, Severity
from app.tui.widgets.input_bar import CommandBar, FilterBar, InputBar
from core.errors import MlcError

if TYPE_CHECKING:
    from app.tui.app import MlcConsole
    from core.engine import Engine


log = logging.getLogger(__name__)


def describe_error(error: Exception) -> str:
    """The flash line's words for a failure: the engine's own message, else the bug's name
    (with the traceback in the log, since it is a bug)."""
    if isinstance(error, MlcError):
        return str(error)
    log.error("unexpected error in a console worker", exc_info=error)
    return f"unexpected {type(error).__name__}: {error}"


class ResourceScreen(Screen[None]):
    CRUMB: ClassVar[str] = ""
    REFRESH_S: ClassVar[float] = 2.0
    MUTATING: ClassVar[frozenset[str]] = frozenset()
    """Actions that change something: not offered at all in read-only mode."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "back", "Back", id="back", tooltip="Close the filter, else go back"),
        # Priority: handled as the key arrives, so keys typed or pasted right after `:` or `/`
        # reach the bar instead of the table that had focus a moment before.
        Binding("slash", "filter", "Filter", id="filter", tooltip="Filter the rows", priority=True),
        Binding(
            "colon", "command", "Command", id="command", tooltip="Jump to a view", priority=True
        ),
        Binding("question_mark", "help", "Help", id="help", tooltip="Keys of this view"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self._timer: Timer | None = None
        self._visible = False
        self.last_data: Any = None

    # --- what a view provides -----------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield from ()

    def crumb(self) -> str:
        return self.CRUMB

    def context(self) -> str:
        """A short status shown beside the breadcrumbs (the window, the counts)."""
        return ""

    def fetch(self) -> Any:
        """Load the view's data. Runs in a thread: engine calls only, no widgets."""
        return None

    def show(self, data: Any) -> None:
        """Draw `data`. Runs on the event loop: widgets only, no engine calls."""

    def selected_model(self) -> str | None:
        """The model the view is about or has selected (for `:live` without a name)."""
        return None

    # --- composition --------------------------------------------------------------------

    @property
    def console(self) -> MlcConsole:
        return self.app  # type: ignore[return-value]

    @property
    def engine(self) -> Engine:
        return self.console.engine

    def compose(self) -> ComposeResult:
        yield Crumbs(id="crumbs")
        yield from self.compose_body()
        yield FilterBar()
        yield CommandBar(route_words())
        yield Flash(id="flash")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.update_crumbs()

    def update_crumbs(self) -> None:
        parts = [s.crumb() for s in self.app.screen_stack if isinstance(s, ResourceScreen)]
        context = self.context()
        if self.filter_text:
            context = f"/{self.filter_text}  {context}".strip()
        if self.console.read_only:
            context = f"{context}  [read-only]".strip()
        self.query_one(Crumbs).set_path(parts, context=context)

    def flash(self, text: str, severity: Severity = "information") -> None:
        self.query_one(Flash).show(text, severity)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("command", "filter") and isinstance(self.focused, Input):
            return False  # typing a `:` or `/` into a field is just a character
        # In read-only mode a mutating action is not bound at all: absent from footer and help.
        return not (action in self.MUTATING and self.console.read_only)

    # --- polling ------------------------------------------------------------------------

    def on_screen_resume(self) -> None:
        self._visible = True
        self.update_crumbs()
        self.poll_now()

    def on_screen_suspend(self) -> None:
        self._visible = False
        self._cancel_timer()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def poll_now(self) -> None:
        self._cancel_timer()
        self._load()

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _load(self) -> None:
        try:
            data = self.fetch()
        except Exception as e:  # a view keeps polling; the operator reads why it failed
            self.post_message(LoadFailed(describe_error(e)))
        else:
            self.post_message(Loaded(data))

    def _schedule_next(self) -> None:
        self._cancel_timer()
        if self._visible and self.REFRESH_S > 0:
            self._timer = self.set_timer(self.REFRESH_S, self._load)

    @on(Loaded)
    def _on_loaded(self, message: Loaded) -> None:
        message.stop()
        self.last_data = message.data
        self.show(message.data)
        self.update_crumbs()
        self._schedule_next()

    @on(LoadFailed)
    def _on_load_failed(self, message: LoadFailed) -> None:
        message.stop()
        self.flash(message.error, "error")
        self._schedule_next()

    # --- actions off the event loop -----------------------------------------------------

    @work(thread=True, group="act", exit_on_error=False)
    def act(self, call: Callable[[], Any], done: Callable[[Any], str]) -> None:
        """Run a mutating engine call in a thread; `done(result)` goes to the flash line."""
        try:
            result = call()
        except Exception as e:
            self.post_message(ActionDone(describe_error(e), ok=False))
        else:
            self.post_message(ActionDone(done(result)))

    @work(thread=True, group="prepare", exit_on_error=False)
    def prepare(self, call: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """Load what a dialog needs in a thread, then open it with `then(result)` on the loop."""
        try:
            result = call()
        except Exception as e:
            self.post_message(ActionDone(describe_error(e), ok=False))
        else:
            self.app.call_from_thread(then, result)

    @on(ActionDone)
    def _on_action_done(self, message: ActionDone) -> None:
        message.stop()
        self.flash(message.text, "information" if message.ok else "error")
        self.poll_now()

    # --- keys ---------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.filter_text:
            self.filter_text = ""
            self.query_one(FilterBar).value = ""
            self.refilter()
            return
        self.console.go_back()

    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self.filter_text)

    def action_command(self) -> None:
        bar = self.query_one(CommandBar)
        bar.set_words(route_words() + self.console.completion_words())
        bar.open()

    def action_help(self) -> None:
        from app.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self))

    @on(Input.Changed, "#filter-bar")
    def _on_filter_changed(self, event: Input.Changed) -> None:
        if isinstance(event, InputBar.Closed):
            self.filter_text = ""
        else:
            self.filter_text = event.value.strip()
        self.refilter()

    @on(Input.Submitted, "#filter-bar")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        self.query_one(FilterBar).close()

    @on(Input.Submitted, "#command-bar")
    def _on_command(self, event: Input.Submitted) -> None:
        self.query_one(CommandBar).close()
        self.console.run_command(event.value)

    def refilter(self) -> None:
        """Redraw the last data with the current filter."""
        self.update_crumbs()
        if self.last_data is not None:
            self.show(self.last_data)

    def matches(self, *cells: object) -> bool:
        """True when the row made of `cells` contains the filter text (case-insensitive)."""
        if not self.filter_text:
            return True
        needle = self.filter_text.lower()
        return any(needle in str(c).lower() for c in cells)

    def focus_main(self, widgets: Iterable[Widget]) -> None:
        for widget in widgets:
            widget.focus()
            return
