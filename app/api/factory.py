"""The one app factory, shared by `mlc serve`, the console and the tests."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from app.api import errors
from app.api.auth import document_roles
from app.api.body import DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES
from app.api.guard import LoopbackOnly
from app.api.routes import data_plane, health, table
from core.engine import LocalEngine

DESCRIPTION = """\
The control API (`/api/v1/…`) offers every operation of the mlc engine; the data plane
(`/v1/models/{name}/…`) answers predictions and ingests events and late labels.

Authenticate with `Authorization: Bearer <token>` (`mlc tokens create NAME --role ROLE`).
Roles: **viewer** reads everything and predicts; **operator** also makes every change but
tokens: models, versions, training, deployments, rollouts, A/B tests, alert rules,
acknowledgements, silences, retrain policies, feature definitions and rows, events and
actuals; **admin** also manages tokens. Each operation names its role (`x-mlc-role`).
Errors are `{"error": kind, "detail": message}`.
"""


def create_app(
    engine: LocalEngine,
    *,
    require_auth: bool,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> FastAPI:
    """The API over `engine`. Without `require_auth` every caller acts as the local admin:
    then requests over TCP must be for and from loopback (`app.api.guard`)."""
    app = FastAPI(
        title="mlc",
        summary="The model lifecycle console's HTTP API",
        description=DESCRIPTION,
        version="1",
    )
    app.state.engine = engine
    app.state.require_auth = require_auth
    app.state.max_body_bytes = max_body_bytes
    app.state.max_batch = max_batch
    errors.install(app)
    if not require_auth:
        app.add_middleware(LoopbackOnly)
    # The data plane first: routes are matched in order, and each area passed on the way
    # cost a prediction ~0.1 ms (the data plane was ninth).
    app.router.routes.extend(data_plane.routes)
    app.include_router(health.router)
    app.include_router(table.router())
    _document(app, data_plane.OPENAPI_PATHS)
    return app


def _document(app: FastAPI, paths: dict[str, Any]) -> None:
    """Add `paths`, routes FastAPI does not serve itself, to the generated OpenAPI schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()  # kept by FastAPI as `app.openapi_schema`
            # A copy: the role is written into each operation, and `paths` serves every app.
            schema["paths"] = {**copy.deepcopy(paths), **schema["paths"]}
            document_roles(schema)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
