"""Pick one of a few named options (where to deploy, say): arrows and enter, esc cancels.

It returns the chosen option's key, or None when cancelled. Choosing is never the dangerous
step itself: the caller confirms what the choice does in a `ConfirmScreen` afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from app.tui.fmt import shown
from app.tui.widgets.safe_static import SafeLabel, SafeStatic


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    """One line: what choosing this does (`staging   now — → v2 100%`)."""


class ChoiceScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, lines: list[str], choices: list[Choice]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield SafeLabel(self.title_text, id="dialog-title")
            if self.lines:
                yield SafeStatic("\n".join(self.lines), id="dialog-body", markup=False)
            yield OptionList(
                *(Option(shown(c.label), id=c.key) for c in self.choices), id="choice-options"
            )
            yield SafeLabel("↑ ↓ choose · enter select · esc cancel", id="dialog-prompt")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
