"""`Static` and `Label` that show control characters in what they are given as escapes.

Every text a view puts on screen goes through one of these, a `ResourceTable` or the flash
line, all of which pass it through `fmt.shown`: a tag holding `ESC[2J` or an OSC title reads as
`\\x1b[2J` instead of clearing the screen or renaming the window. `tests/tui/
test_terminal_safety.py` checks that no view builds Textual's own `Static` or `Label`.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Label, Static

from app.tui.fmt import shown


class _Shows:
    """Escapes content on its way in, so what is measured is what is drawn."""

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        super().__init__(shown(content), **kwargs)  # type: ignore[call-arg]

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(shown(content), layout=layout)  # type: ignore[misc]


class SafeStatic(_Shows, Static):
    pass


class SafeLabel(_Shows, Label):
    pass
