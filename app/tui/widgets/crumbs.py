"""Breadcrumbs: where the operator is, from the screen stack (`fleet › credit-default › live`)."""

from __future__ import annotations

from app.tui.widgets.safe_static import SafeStatic


class Crumbs(SafeStatic):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)

    DEFAULT_CSS = """
    Crumbs { height: 1; padding: 0 1; background: $primary-background; color: $text; }
    """

    def set_path(self, parts: list[str], *, context: str = "") -> None:
        path = " › ".join(parts)
        self.update(f"{path}    {context}" if context else path)
