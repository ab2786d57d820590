"""`?`: the keys of the view below, built from its bindings (so it never goes stale), and the
views the `:` bar jumps to."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen

from app.tui.routes import ROUTES
from app.tui.widgets.safe_static import SafeStatic


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,question_mark,q", "dismiss", "Close"),
    ]

    def __init__(self, view: Screen[None]) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        # Side by side, so both fit a 24-line terminal without scrolling.
        with VerticalScroll(id="help-body"), Horizontal():
            yield SafeStatic(self._keys(), id="help-keys")
            yield SafeStatic(self._views(), id="help-views")

    def _keys(self) -> Table:
        table = Table(title="keys of this view", title_justify="left", box=None, expand=True)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does")
        seen: set[str] = set()
        for active in self.view.active_bindings.values():
            binding = active.binding
            # The view's own keys; widget keys (cursor moves) are summed up in one line below.
            if active.node is not self.view or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            display = self.app.get_key_display(binding)
            table.add_row(display, binding.tooltip or binding.description)
        table.add_row("↑ ↓ pgup pgdn", "move in a table; enter opens the row; tab next widget")
        table.add_row("ctrl+p", "command palette: every action by name")
        table.add_row("ctrl+c", "quit")
        return table

    def _views(self) -> Table:
        table = Table(title="views  (:name [MODEL])", title_justify="left", box=None, expand=True)
        table.add_column(":", style="bold", no_wrap=True)
        table.add_column("shows")
        for route in ROUTES:
            name = f":{route.name}" + (" MODEL" if route.takes_model else "")
            table.add_row(name, route.help)
        table.add_row(":q", "quit")
        return table

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
