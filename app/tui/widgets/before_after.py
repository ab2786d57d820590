"""Two values side by side as readable JSON: what a change found and what it left."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.json import JSON
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from app.tui.widgets.safe_static import SafeStatic


def as_json(title: str, value: Any) -> Group:
    head = Text(title, style="bold")
    if value is None:
        return Group(head, Text("—  (nothing)", style="dim"))
    return Group(head, JSON.from_data(value, indent=2, default=str, sort_keys=True))


class BeforeAfter(Horizontal):
    DEFAULT_CSS = """
    BeforeAfter { height: auto; }
    BeforeAfter > Static { width: 1fr; height: auto; padding-right: 1; }
    """

    def compose(self) -> ComposeResult:
        yield SafeStatic("", classes="before", markup=False)
        yield SafeStatic("", classes="after", markup=False)

    def show(self, before: Any, after: Any) -> None:
        self.query_one(".before", Static).update(as_json("before", before))
        self.query_one(".after", Static).update(as_json("after", after))

    def clear(self) -> None:
        for static in self.query(Static):
            static.update("")
