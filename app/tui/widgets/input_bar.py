"""The `:` command bar and the `/` filter bar: one-line inputs that hide when done."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.binding import Binding
from textual.suggester import SuggestFromList
from textual.widgets import Input


class InputBar(Input):
    """Hidden until opened; `esc` closes it (and the owner decides what that means)."""

    DEFAULT_CSS = """
    InputBar { display: none; height: 1; border: none; padding: 0 1; }
    InputBar.-open { display: block; }
    InputBar:focus { border: none; background: $boost; }
    """
    BINDINGS: ClassVar = [Binding("escape", "close", "Close", show=False)]

    def open(self, value: str = "") -> None:
        self.value = value
        self.add_class("-open")
        # At once, not on the next loop turn (`focus()`): keys typed or pasted right after
        # `:` are already queued and must land in the bar, not in the table below.
        self.screen.set_focus(self)

    def close(self) -> None:
        self.remove_class("-open")
        if self.screen.focused is self:
            self.screen.set_focus(None)
            self.screen.focus_next()

    def action_close(self) -> None:
        self.post_message(self.Closed(self))
        self.close()

    class Closed(Input.Changed):
        """The operator pressed esc in the bar."""

        def __init__(self, bar: InputBar) -> None:
            super().__init__(bar, bar.value)


class CommandBar(InputBar):
    def __init__(self, words: Iterable[str]) -> None:
        super().__init__(
            placeholder=":models  :ab  :alerts  :audit  :jobs  :live MODEL  :q",
            suggester=SuggestFromList(list(words), case_sensitive=False),
            id="command-bar",
        )

    def set_words(self, words: Iterable[str]) -> None:
        self.suggester = SuggestFromList(list(words), case_sensitive=False)


class FilterBar(InputBar):
    def __init__(self) -> None:
        super().__init__(placeholder="/ filter rows (esc clears)", id="filter-bar")
