"""`mlc serve`: own the store and serve the HTTP API on its Unix socket and a TCP port.

Start-up, in order: open the store (its journal replayed), begin the warm-up (every serving
version loaded and smoke-tested, in a thread), listen on the socket and the port (one line
on stderr says so: clients and `/healthz` are served from here on, `/readyz` answers 503),
then, once the warm-up is over, print the ready line on stdout (with `--json`, one JSON
document) and answer predictions.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.output import err_console, state
from storage.owner import clear_owner, will_serve
from storage.paths import SOCKET_FILE

if TYPE_CHECKING:
    from core.engine import LocalEngine


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
    max_queue_wait: Annotated[
        float,
        typer.Option(
            "--max-queue-wait",
            min=0.01,
            envvar="MLC_MAX_QUEUE_WAIT_S",
            help="Seconds a data-plane request may wait for its turn; one that would wait"
            " longer is answered 503 with Retry-After at once.",
        ),
    ] = 1.0,
) -> None:
    """Serve the store: the control API, predictions and event ingest.

    The socket $MLC_HOME/mlc.sock (mode 0600) acts as local admin; mlc commands use it.

    TCP requests need a bearer token (mlc tokens create), unless --insecure on loopback.
    """
    # Imported here: FastAPI and uvicorn cost every other command ~0.7 s of start-up.
    from app.api.admission import Admission
    from app.api.listeners import is_loopback, tcp_listener, unix_listener, url_of
    from app.api.server import ApiServers
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
    path = home / SOCKET_FILE
    will_serve(home, str(path))
    try:
        engine = LocalEngine.open(home)
    except BaseException:
        clear_owner(home)  # forgets the intent to serve; the owner file is not ours
        raise
    started = False
    try:
        engine.start_warmup(freeze_gc=True)
        unix = unix_listener(path)
        tcp = None
        try:
            tcp = tcp_listener(host, port)
            servers = ApiServers(
                engine, unix, tcp, tcp_requires_auth=not insecure,
                admission=Admission(max_wait_s=max_queue_wait),
            )  # fmt: skip

            def on_started() -> None:
                nonlocal started
                assert tcp is not None
                where = {"home": str(home), "socket": str(path), "url": url_of(tcp),
                         "auth": not insecure}  # fmt: skip
                err_console.print(
                    f"mlc serve: pid {os.getpid()} listening on unix:{path} and {where['url']};"
                    f" {engine.readiness.waiting_for() or 'ready'} …",
                    markup=False,
                )
                engine.start_background(freeze_gc=True)
                started = True
                threading.Thread(
                    target=_announce_when_ready, args=(engine, cli.json, where),
                    name="mlc-ready", daemon=True,
                ).start()  # fmt: skip

            servers.serve(on_started)
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


def _announce_when_ready(engine: LocalEngine, as_json: bool, where: dict[str, Any]) -> None:
    engine.readiness.wait()
    if engine.store.closed:
        return
    ready = {k: engine.readiness.doc()[k] for k in ("versions", "failed", "took_s")}
    if as_json:
        doc = {"pid": os.getpid(), "store": where["home"], "socket": where["socket"],
               "url": where["url"], "auth": where["auth"], "ready": ready}  # fmt: skip
        sys.stdout.write(json.dumps(doc) + "\n")
    else:
        tcp = "bearer tokens" if where["auth"] else "NO AUTH (--insecure)"
        n = ready["versions"]
        checked = f"{n} serving version{'s' * (n != 1)} loaded and smoke-tested"
        failed = "".join(
            f"; {f['model']}:{f['version']} FAILED ({f['error']})" for f in ready["failed"]
        )
        sys.stdout.write(
            f"mlc serving {where['home']} on unix:{where['socket']} (local admin) and"
            f" {where['url']} ({tcp}); ready: {checked} in {ready['took_s']:.1f} s{failed};"
            f" pid {os.getpid()}, Ctrl+C to stop\n"
        )
    sys.stdout.flush()
