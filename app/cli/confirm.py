"""Confirmation of dangerous actions: asked on a terminal, `--yes` in scripts."""

from __future__ import annotations

import sys

import typer

from core.errors import InvalidInput


def confirm(question: str, *, yes: bool, type_to_confirm: str | None = None) -> None:
    """Proceed, or raise. Without a terminal and without `--yes`, refuse rather than guess."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise InvalidInput(f"{question.rstrip('?')}: needs confirmation; pass --yes in scripts")
    if type_to_confirm is not None:
        typed = typer.prompt(f"{question}\nType {type_to_confirm!r} to confirm")
        if typed.strip() != type_to_confirm:
            raise typer.Exit(1)
        return
    if not typer.confirm(question, default=False):
        raise typer.Exit(1)
