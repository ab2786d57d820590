"""A row-cursor table that keeps the selection on the same row across refreshes.

Its cells show control characters as escapes (`fmt.shown`), each cell on one line, and a string
cell is plain text: DataTable reads strings as markup, and a `[/]` in a reason would crash it."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from app.tui.fmt import shown

Cell = str | Text


class ResourceTable(DataTable[Cell]):
    DEFAULT_CSS = """
    ResourceTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._columns: tuple[str, ...] = ()

    def replace(self, columns: Sequence[str], rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Show `rows` (key, cells); the cursor stays on the row with the same key."""
        selected = self.selected_key
        if tuple(columns) != self._columns:
            self.clear(columns=True)
            self.add_columns(*columns)
            self._columns = tuple(columns)
        else:
            self.clear()
        for key, cells in rows:
            self.add_row(*(_cell(c) for c in cells), key=key)
        if selected is not None:
            with contextlib.suppress(RowDoesNotExist):
                self.move_cursor(row=self.get_row_index(selected), animate=False)

    @property
    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # the cursor can sit past the end right after a clear
            return None
        return str(key.value) if key.value is not None else None


def _cell(value: Cell) -> Text:
    shown_value = shown(value, cell=True)
    return Text(shown_value) if isinstance(shown_value, str) else shown_value
