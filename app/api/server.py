"""Serving the API from one event loop: a Unix socket (the local admin door) and a TCP port.

uvicorn creates Unix sockets with mode 0666; we bind the socket ourselves and make it 0600
before it listens, so no other user ever gets a window to connect (DESIGN.md, measured).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import signal
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from app.api.factory import create_app
from core.engine import LocalEngine
from core.errors import MlcError, StoreUnavailable

_UNIX_PATH_MAX = 107  # sun_path is 108 bytes, NUL included
GRACEFUL_SHUTDOWN_S = 5


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Each uvicorn Server would install its own SIGINT/SIGTERM handlers and re-raise the
        # signal when it stops: with two servers the second would kill the process before
        # the store is closed. `ApiServers` handles the signals once, for both.
        yield


def unix_listener(path: Path) -> socket.socket:
    """A bound Unix socket at `path`, mode 0600, not yet listening.

    Call only as the store's owner: holding the store proves that a socket file already
    there is stale (its server is gone), so it is removed.
    """
    if len(os.fsencode(path)) > _UNIX_PATH_MAX:
        raise StoreUnavailable(
            f"socket path {path} is longer than {_UNIX_PATH_MAX} bytes, the system's limit:"
            " use a store directory with a shorter path"
        )
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise StoreUnavailable(f"{path} exists and is not a socket: move it away first")
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        # A bound socket that is not listening refuses connections, so this leaves no window.
        os.chmod(path, 0o600)
    except OSError as e:
        sock.close()
        raise StoreUnavailable(f"cannot create socket {path}: {e.strerror}") from e
    return sock


def tcp_listener(host: str, port: int) -> socket.socket:
    """A bound TCP socket (port 0 picks a free port; read it back with `getsockname`)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family = infos[0][0]
        sock = socket.create_server(infos[0][4][:2], family=family, backlog=1024)
        # Accepted connections inherit this on Linux. Without it a kept-alive client waits
        # ~40 ms per response: the body segment sits behind Nagle until the client's
        # delayed ACK of the headers (measured: 44 ms → <1 ms for GET /api/v1/health).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    except OSError as e:
        raise MlcError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e


def is_loopback(host: str) -> bool:
    """True when every address `host` names is a loopback address."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    try:
        return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)
    except ValueError:
        return False


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class ApiServers:
    """The socket server (no tokens: file permissions guard it) and, optionally, TCP."""

    def __init__(
        self,
        engine: LocalEngine,
        unix: socket.socket,
        tcp: socket.socket | None,
        *,
        tcp_requires_auth: bool = True,
    ) -> None:
        self._listeners: list[tuple[_Server, socket.socket]] = [
            (_server(create_app(engine, require_auth=False)), unix)
        ]
        if tcp is not None:
            app = create_app(engine, require_auth=tcp_requires_auth)
            self._listeners.append((_server(app), tcp))

    def stop(self) -> None:
        """Stop gracefully; a second call stops without waiting for open connections."""
        for server, _ in self._listeners:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True

    async def run(
        self, on_started: Callable[[], None] | None = None, *, handle_signals: bool = True
    ) -> None:
        """Serve until `stop()` (or SIGINT/SIGTERM); `on_started` runs once all listen."""
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
        for sig in signals:
            loop.add_signal_handler(sig, self.stop)
        tasks = [asyncio.create_task(s.serve(sockets=[sock])) for s, sock in self._listeners]
        try:
            while not all(s.started for s, _ in self._listeners):
                if any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.01)
            else:
                if on_started is not None:
                    on_started()
            # If one server stops (a failure, or stop()), stop the other too.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            self.stop()
            await asyncio.gather(*tasks)
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)


def _server(app: FastAPI) -> _Server:
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # an access line per prediction would cost more than the prediction
        http="httptools",  # parses and answers ~0.1 ms faster a request than h11 (measured)
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return _Server(config)
