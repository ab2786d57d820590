"""The flash line: the result of the last action, in words, cleared after a while."""

from __future__ import annotations

from typing import Literal

from textual.timer import Timer

from app.tui.widgets.safe_static import SafeStatic

Severity = Literal["information", "warning", "error"]

_PREFIX = {"information": "", "warning": "warning: ", "error": "error: "}


class Flash(SafeStatic):
    DEFAULT_CSS = """
    Flash { height: 1; padding: 0 1; color: $text-muted; }
    Flash.-warning { color: $warning; text-style: bold; }
    Flash.-error { color: $error; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._clear: Timer | None = None

    def show(self, text: str, severity: Severity = "information", *, hold_s: float = 8) -> None:
        # The word prefix keeps the severity readable where colours are not (16 colours, logs).
        self.update(_PREFIX[severity] + text)
        self.set_class(severity == "warning", "-warning")
        self.set_class(severity == "error", "-error")
        if self._clear is not None:
            self._clear.stop()
        self._clear = self.set_timer(hold_s, lambda: self.update("")) if hold_s > 0 else None
