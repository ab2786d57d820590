"""A small dialog of named text fields with validation before it closes (a split, a comment,
a silence's duration). It returns the values, or None when cancelled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from app.tui.widgets.safe_static import SafeLabel, SafeStatic

Values = dict[str, str]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""


class FormScreen(ModalScreen[Values | None]):
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        title: str,
        fields: list[Field],
        *,
        note: str = "",
        validate: Callable[[Values], str | None] | None = None,
        submit_label: str = "OK",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.note = note
        self.validate = validate
        self.submit_label = submit_label

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield SafeLabel(self.title_text, id="dialog-title")
            if self.note:
                yield SafeStatic(self.note, id="dialog-body", markup=False)
            for field in self.fields:
                yield SafeLabel(field.label)
                yield Input(field.value, placeholder=field.placeholder, id=f"field-{field.name}")
            yield SafeStatic("", id="dialog-error", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button(self.submit_label, variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def values(self) -> Values:
        return {
            f.name: self.query_one(f"#field-{f.name}", Input).value.strip() for f in self.fields
        }

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        values = self.values()
        problem = self.validate(values) if self.validate is not None else None
        if problem:
            self.query_one("#dialog-error", Static).update(problem)
            return
        self.dismiss(values)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
