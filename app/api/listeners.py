"""The sockets the API serves on: the store's Unix socket (mode 0600 before it listens, the
local admin door) and TCP listeners, and what a host name or a bound socket says about them."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import stat
from pathlib import Path

from core.errors import MlcError, StoreUnavailable

_UNIX_PATH_MAX = 107  # sun_path is 108 bytes, NUL included


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
    """The http:// URL a bound TCP socket answers on (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
