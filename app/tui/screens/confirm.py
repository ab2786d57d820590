"""Confirmation of a dangerous action. The dialog names the model, the versions and the
traffic before and after; for a production rollback or a shift to 100% the operator types
the model name, so a stray `y` can never fire it.

It returns the reason the operator gave ("" when none was asked), or None when cancelled.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from app.tui.widgets.safe_static import SafeLabel, SafeStatic


class ConfirmScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("n", "cancel", "Cancel", show=False),
        Binding("y", "confirm", "Confirm"),
    ]

    def __init__(
        self,
        title: str,
        lines: list[str],
        *,
        type_to_confirm: str | None = None,
        ask_reason: bool = False,
        action_label: str = "Confirm",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.type_to_confirm = type_to_confirm
        self.ask_reason = ask_reason
        self.action_label = action_label

    @property
    def typed(self) -> bool:
        # With text fields the letters y and n are text, not answers.
        return self.type_to_confirm is not None or self.ask_reason

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield SafeLabel(self.title_text, id="dialog-title")
            yield SafeStatic("\n".join(self.lines), id="dialog-body", markup=False)
            if self.ask_reason:
                yield SafeLabel("Reason (recorded in the audit log):")
                yield Input(placeholder="why", id="reason-input")
            if self.type_to_confirm is not None:
                yield SafeLabel(f"Type {self.type_to_confirm} to confirm:", id="dialog-prompt")
                yield Input(placeholder=self.type_to_confirm, id="confirm-input")
            elif not self.ask_reason:
                yield SafeLabel("y confirm · n / esc cancel", id="dialog-prompt")
            yield SafeStatic("", id="dialog-error", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button(
                    self.action_label,
                    variant="error",
                    id="confirm",
                    disabled=self.type_to_confirm is not None,
                )
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.ask_reason:
            self.query_one("#reason-input", Input).focus()
        elif self.type_to_confirm is not None:
            self.query_one("#confirm-input", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.typed and action == "confirm")

    @on(Input.Changed, "#confirm-input")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = event.value != self.type_to_confirm

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "reason-input" and self.type_to_confirm is not None:
            self.query_one("#confirm-input", Input).focus()
            return
        self.action_confirm()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        reason = self.query_one("#reason-input", Input).value.strip() if self.ask_reason else ""
        if self.type_to_confirm is not None:
            typed = self.query_one("#confirm-input", Input).value
            if typed != self.type_to_confirm:
                self.query_one("#dialog-error", Static).update(
                    f"type {self.type_to_confirm} exactly to confirm"
                )
                return
        if self.ask_reason and not reason:
            self.query_one("#dialog-error", Static).update("a reason is required")
            self.query_one("#reason-input", Input).focus()
            return
        self.dismiss(reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
