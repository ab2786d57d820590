"""Printing results: a readable table for people, one JSON document with `--json`.

Everything printed for people shows control characters from stored strings as visible escapes
(`app.visible`): cells and fields escape each value (a newline too, so a value cannot fake a row),
and both consoles escape every string they are asked to print, so a message that interpolates a
stored string is safe without its caller doing anything. Cells are `Text`, never markup, so a
`[red]` or a `[/]` in a tag prints as typed. `--json` stays exact: JSON escapes C0 controls, and
the rest (DEL, C1, bidirectional overrides) are written as `\\u` escapes of the same string.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from app.cli.state import CliState
from app.visible import json_visible, visible
from core.errors import MlcError
from core.jsonable import to_jsonable


class SafeConsole(Console):
    """A Rich console that shows control characters in any string it prints as escapes."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        # Every string printed or put in a renderable passes here before markup and layout,
        # so widths are measured on what is shown.
        return super().render_str(visible(text, keep_newlines=True), **kwargs)


def _console() -> Console:
    # Piped output is read by people too (less, grep): give tables room instead of folding
    # every cell at 80 columns.
    probe = Console()
    return SafeConsole(highlight=False, width=None if probe.is_terminal else max(probe.width, 160))


console = _console()
err_console = SafeConsole(stderr=True, highlight=False, soft_wrap=True)


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj


def emit(ctx: typer.Context, data: Any, human: Callable[[], None]) -> None:
    if state(ctx).json:
        sys.stdout.write(json_text(to_jsonable(data)) + "\n")
    else:
        human()


def json_text(doc: Any) -> str:
    """`doc` as indented JSON; characters that could drive a terminal (JSON itself escapes
    the C0 controls) are `\\u` escapes too: the same string to any JSON reader."""
    return json_visible(json.dumps(doc, indent=2, ensure_ascii=False))


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
    wrap: Sequence[str] = (),
) -> None:
    """Columns named in `wrap` (default: the last) fold; the others keep to one line."""
    wrapping = set(wrap) or {columns[-1]}
    t = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False)
    for col in columns:
        if col in wrapping:
            t.add_column(col, overflow="fold")
        else:
            t.add_column(col, no_wrap=True)
    for row in rows:
        t.add_row(*(Text(cell(v)) for v in row))
    console.print(t)


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        console.print(Text.assemble((f"{key:<{width}}", "bold"), "  ", cell(value)))


def cell(value: Any) -> str:
    """One value as one line of text: times to the second, floats to 4 significant digits,
    control characters (newlines too) as visible escapes."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or "-"
    return visible(str(to_jsonable(value)))


def line(text: str) -> None:
    """One line as it is (a log line): never folded; control characters escaped."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def success(ctx: typer.Context, message: str) -> None:
    if not state(ctx).json:
        console.print(message, markup=False)


def fail(cli: CliState | None, error: MlcError) -> int:
    """Report an error the way the caller asked; return the exit code."""
    code = error.exit_code
    err_console.print(f"error: {error.message}", markup=False, highlight=False)
    if cli is not None and cli.json:
        doc = {"error": {"kind": error.kind, "message": error.message, "exit_code": code}}
        sys.stdout.write(json.dumps(doc) + "\n")
    return code
