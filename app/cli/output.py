"""Printing results: a readable table for people, one JSON document with `--json`."""

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

from app.cli.state import CliState
from core.errors import MlcError
from core.jsonable import to_jsonable

EXIT_CODES = {
    "invalid": 2,
    "not_found": 3,
    "conflict": 4,
    "permission": 5,
    "too_large": 2,
}


def _console() -> Console:
    # Piped output is read by people too (less, grep): give tables room instead of folding
    # every cell at 80 columns.
    probe = Console()
    return Console(highlight=False, width=None if probe.is_terminal else max(probe.width, 160))


console = _console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj


def emit(ctx: typer.Context, data: Any, human: Callable[[], None]) -> None:
    if state(ctx).json:
        sys.stdout.write(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n")
    else:
        human()


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
        t.add_row(*(cell(v) for v in row))
    console.print(t)


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        console.print(f"[bold]{key:<{width}}[/]  {cell(value)}", markup=True, highlight=False)


def cell(value: Any) -> str:
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
    return str(to_jsonable(value))


def success(ctx: typer.Context, message: str) -> None:
    if not state(ctx).json:
        console.print(message, markup=False)


def fail(cli: CliState | None, error: MlcError) -> int:
    """Report an error the way the caller asked; return the exit code."""
    code = EXIT_CODES.get(error.kind, 1)
    err_console.print(f"error: {error.message}", markup=False, highlight=False)
    if cli is not None and cli.json:
        doc = {"error": {"kind": error.kind, "message": error.message, "exit_code": code}}
        sys.stdout.write(json.dumps(doc) + "\n")
    return code
