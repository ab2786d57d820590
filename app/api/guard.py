"""What keeps a server without tokens (`mlc serve --insecure`) local: requests over TCP must
be addressed to a loopback name and, when a browser sends them, come from a loopback page.

Binding to 127.0.0.1 alone does not do it. A web page the user opens can make the browser
call the port: by DNS rebinding (a name of the attacker's that answers 127.0.0.1, so the
browser deems the server the page's own origin: its `Host` is the attacker's name), or by a
cross-site request the browser sends without asking (a form or `text/plain` POST: its
`Origin` is the page's). Either would act as the local admin. So a request whose `Host` is
not `localhost` or a loopback address, or whose `Origin` is present and not a loopback page,
is refused with 403 before anything reads it. The Unix socket (file permissions guard it; no
browser reaches it) and servers that need tokens (a browser never adds a bearer token on its
own) are not concerned. Data-plane bodies must also be declared JSON (`app/api/body.py`),
which no form or simple cross-site request can do.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import error_body


class LoopbackOnly:
    """ASGI middleware for an app serving without tokens: requests over TCP must be for and
    from loopback (see the module's docstring); over a Unix socket, anything goes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _over_unix_socket(scope):
            problem = refusal(_header(scope, b"host"), _header(scope, b"origin"))
            if problem is not None:
                await error_body("permission", problem, 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def refusal(host: str | None, origin: str | None) -> str | None:
    """Why a request with these headers may not reach a server without tokens, or None."""
    if host is None or not is_loopback_host(host):
        return (
            f"refused: Host {host!r} is not localhost or a loopback address; a server without"
            " tokens (--insecure) answers only requests addressed to this machine's loopback"
            " (a guard against DNS rebinding)"
        )
    if origin is not None and not _is_loopback_origin(origin):
        return (
            f"refused: a cross-site request from {origin!r}; a server without tokens"
            " (--insecure) answers only pages served from a loopback address"
        )
    return None


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address, with or without a port: `127.0.0.1:8765`, `[::1]`."""
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, port = host[1:].partition("]")
        if not bracket or (port and not (port[:1] == ":" and port[1:].isdigit())):
            return False
    else:
        name, colon, port = host.partition(":")
        if colon and not port.isdigit():
            return False
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _is_loopback_origin(origin: str) -> bool:
    # "null" (a sandboxed frame, a file:// page) is no loopback page either.
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/") or not parts.netloc:
        return False
    host = parts.hostname or ""
    return is_loopback_host(f"[{host}]" if ":" in host else host) and (port is None or port > 0)


def _over_unix_socket(scope: Scope) -> bool:
    # uvicorn's scope["server"] is (path, None) on a Unix socket, (address, port) on TCP.
    server = scope.get("server")
    return server is not None and server[1] is None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
