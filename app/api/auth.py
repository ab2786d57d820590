"""Who is calling, and may they? One dependency per role: `Viewer`, `Operator`, `Admin`.

Each hands the route the engine acting for the caller (`engine.as_actor`), so every audit
record names the token (`token:<name>`) or, on the trusted Unix socket, the local user.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from core.auth import Unauthenticated, role_allows
from core.domain import Role
from core.engine import LocalEngine
from core.errors import PermissionDenied

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An mlc API token (`mlc tokens create NAME --role ROLE`).",
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


async def engine_for(request: Request, need: Role) -> LocalEngine:
    """The engine acting for the caller of `request`, who must have role `need`: what the
    `Viewer`/`Operator`/`Admin` dependencies give, for routes served without FastAPI's
    parameter resolution (the data plane)."""
    return await _engine_for(request, await bearer(request), need)


async def _engine_for(
    request: Request, credentials: HTTPAuthorizationCredentials | None, need: Role
) -> LocalEngine:
    engine: LocalEngine = request.app.state.engine
    if not request.app.state.require_auth:
        request.state.role = Role.ADMIN
        return engine
    if credentials is None:
        raise Unauthenticated(
            "missing bearer token: send 'Authorization: Bearer <token>' (mlc: --token or MLC_TOKEN)"
        )
    # From memory on the event loop when it can; else in the threadpool, as authenticating
    # may read the store (and note the token's last use). The hop cost ~0.4 ms (measured).
    token = engine.tokens.authenticate_at_once(credentials.credentials)
    if token is None:
        token = await run_in_threadpool(engine.tokens.authenticate, credentials.credentials)
    if not role_allows(token.role, need):
        raise PermissionDenied(
            f"token {token.name!r} has role {token.role.value}; this needs {need.value} or above"
        )
    request.state.role = token.role
    return engine.as_actor(f"token:{token.name}")


# Async, so that a request on the trusted socket costs no thread hop before its handler.
async def _viewer(request: Request, credentials: Credentials) -> LocalEngine:
    return await _engine_for(request, credentials, Role.VIEWER)


async def _operator(request: Request, credentials: Credentials) -> LocalEngine:
    return await _engine_for(request, credentials, Role.OPERATOR)


async def _admin(request: Request, credentials: Credentials) -> LocalEngine:
    return await _engine_for(request, credentials, Role.ADMIN)


Viewer = Annotated[LocalEngine, Depends(_viewer)]
Operator = Annotated[LocalEngine, Depends(_operator)]
Admin = Annotated[LocalEngine, Depends(_admin)]
