"""`mlc console`: the full-screen operations console."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.output import state

if TYPE_CHECKING:
    from app.owner import OwnedStore
    from core.engine import Engine


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
    from app.tui.launch import create_console

    cli = state(ctx)
    owned: list[OwnedStore] = []

    def open_engine() -> Engine:
        # In the console's worker thread: the first frame does not wait for the store.
        from app.owner import connect_or_own

        engine, owner = connect_or_own(cli.home, server=cli.server, token=cli.token)
        if owner is not None:
            owned.append(owner)
        return engine

    console = create_console(open_engine, read_only=read_only)
    try:
        console.run()
    finally:
        engine = console.opened_engine()
        if owned:
            owned[0].close()
        elif engine is not None:
            engine.close()
    if console.return_code:
        raise typer.Exit(console.return_code)
