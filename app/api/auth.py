"""Who is calling, and may they? One dependency per role: `Viewer`, `Operator`, `Admin`.

Each hands the route the engine acting for the caller (`engine.as_actor`), so every audit
record names the token (`token:<name>`) or, on the trusted Unix socket, the local user.

The roles: a viewer reads everything and predicts; an operator also makes every change but
tokens (models, versions, training, deployments, rollouts, A/B tests, alert rules,
acknowledgements, silences, retrain policies, feature definitions and rows, events and
actuals); an admin also manages tokens. The role a route's dependency asks for is also its
security requirement's scope in FastAPI's schema, which `document_roles` repeats as
`x-mlc-role` and in the description: the schema cannot disagree with the code, and
tests/api/test_auth_matrix.py holds both to the README's table.
"""

from __future__ import annotations

from typing import Annotated, Any

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


# The role as the bearer scheme's "scope": OpenAPI 3.1 lets a requirement of any scheme list
# the roles it needs, so FastAPI's own schema says `"security": [{"token": ["operator"]}]`.
_Bearer = HTTPAuthorizationCredentials | None
_AsViewer = Annotated[_Bearer, Security(bearer, scopes=[Role.VIEWER.value])]
_AsOperator = Annotated[_Bearer, Security(bearer, scopes=[Role.OPERATOR.value])]
_AsAdmin = Annotated[_Bearer, Security(bearer, scopes=[Role.ADMIN.value])]


# Async, so that a request on the trusted socket costs no thread hop before its handler.
async def _viewer(request: Request, credentials: _AsViewer) -> LocalEngine:
    return await _engine_for(request, credentials, Role.VIEWER)


async def _operator(request: Request, credentials: _AsOperator) -> LocalEngine:
    return await _engine_for(request, credentials, Role.OPERATOR)


async def _admin(request: Request, credentials: _AsAdmin) -> LocalEngine:
    return await _engine_for(request, credentials, Role.ADMIN)


Viewer = Annotated[LocalEngine, Depends(_viewer)]
Operator = Annotated[LocalEngine, Depends(_operator)]
Admin = Annotated[LocalEngine, Depends(_admin)]

ROLE_FIELD = "x-mlc-role"
"""The OpenAPI extension naming the role an operation needs (`none`: no token at all)."""


def role_text(role: Role | None) -> str:
    """What an operation's description says of who may call it."""
    if role is None:
        return "Needs no token."
    above = {Role.VIEWER: " (or operator, admin)", Role.OPERATOR: " (or admin)"}.get(role, "")
    return f"Needs the **{role.value}** role{above}."


def document_role(operation: dict[str, Any]) -> None:
    """Name in an OpenAPI `operation` the role its security requirement lists: the
    `x-mlc-role` field and the first line of its description."""
    roles = [
        r for requirement in operation.get("security", []) for r in requirement.get("token", [])
    ]
    role = Role(roles[0]) if roles else None
    operation[ROLE_FIELD] = "none" if role is None else role.value
    text = operation.get("description", "")
    operation["description"] = f"{role_text(role)}\n\n{text}" if text else role_text(role)


def document_roles(schema: dict[str, Any]) -> None:
    """`document_role` for every operation of `schema`."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            document_role(operation)
