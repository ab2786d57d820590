"""`mlc serve`: own the store and serve the HTTP API on its Unix socket and a TCP port."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Annotated

import typer

from app.cli.output import err_console, state
from storage.owner import write_owner
from storage.paths import SOCKET_FILE


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="TCP address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port (0: any free port).")
    ] = 8765,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure", help="Accept TCP requests without a token (loopback addresses only)."
        ),
    ] = False,
) -> None:
    """Serve the store: the control API, predictions and event ingest.

    The socket $MLC_HOME/mlc.sock (mode 0600) acts as local admin; mlc commands use it.

    TCP requests need a bearer token (mlc tokens create), unless --insecure on loopback.
    """
    # Imported here: FastAPI and uvicorn cost every other command ~0.7 s of start-up.
    from app.api.server import ApiServers, is_loopback, tcp_listener, unix_listener, url_of
    from core.engine import LocalEngine

    cli = state(ctx)
    if insecure and not is_loopback(host):
        err_console.print(
            f"error: --insecure is allowed only on a loopback address (127.0.0.1, ::1,"
            f" localhost), not {host}: anyone who can reach it would act as admin",
            markup=False,
        )
        raise typer.Exit(2)
    home = cli.home
    engine = LocalEngine.open(home)
    path = home / SOCKET_FILE
    started = False
    try:
        unix = unix_listener(path)
        tcp = None
        try:
            tcp = tcp_listener(host, port)
            write_owner(home, socket=str(path))
            servers = ApiServers(engine, unix, tcp, tcp_requires_auth=not insecure)

            def on_started() -> None:
                nonlocal started
                assert tcp is not None
                _announce(cli.json, home=str(home), socket=str(path), url=url_of(tcp),
                          auth=not insecure)  # fmt: skip
                if (start := getattr(engine, "start_background", None)) is not None:
                    start(freeze_gc=True)
                    started = True

            asyncio.run(servers.run(on_started))
        finally:
            for sock in (unix, tcp):
                if sock is not None:
                    sock.close()
            path.unlink(missing_ok=True)
    finally:
        try:
            if started and (stop := getattr(engine, "stop_background", None)) is not None:
                stop()
        finally:
            engine.close()


def _announce(as_json: bool, *, home: str, socket: str, url: str, auth: bool) -> None:
    if as_json:
        doc = {"pid": os.getpid(), "store": home, "socket": socket, "url": url, "auth": auth}
        sys.stdout.write(json.dumps(doc) + "\n")
    else:
        tcp = "bearer tokens" if auth else "NO AUTH (--insecure)"
        sys.stdout.write(
            f"mlc serving {home} on unix:{socket} (local admin) and {url} ({tcp});"
            f" pid {os.getpid()}, Ctrl+C to stop\n"
        )
    sys.stdout.flush()
