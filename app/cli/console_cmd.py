"""`mlc console`: the full-screen operations console."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import state


def console(
    ctx: typer.Context,
    read_only: Annotated[
        bool,
        typer.Option("--read-only", help="Look only: no action that changes anything is offered."),
    ] = False,
) -> None:
    """Open the console on the store (or on --server).

    If another process owns the store, the console is its client; otherwise the console
    becomes the owner and serves the store's socket, so mlc commands keep working beside it.
    """
    # Imported here: Textual costs the other commands start-up time.
    from app.owner import connect_or_own
    from app.tui.launch import run_console, viewer_only

    cli = state(ctx)
    engine, owned = connect_or_own(cli.home, server=cli.server, token=cli.token)
    try:
        run_console(engine, read_only=read_only or viewer_only(engine))
    finally:
        if owned is not None:
            owned.close()
        else:
            engine.close()
