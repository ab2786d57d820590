"""Liveness (unauthenticated: clients probe the Unix socket with it) and who-am-I."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.auth import Viewer
from app.api.render import doc, ok
from app.api.schemas import Health, WhoAmI

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health", response_model=None, responses=doc(Health))
def health() -> Response:
    """Always answers while the server runs; needs no token."""
    return ok({"ok": True, "pid": os.getpid()})


@router.get("/whoami", response_model=None, responses=doc(WhoAmI))
def whoami(engine: Viewer, request: Request) -> Response:
    """The actor that audit records will name for this caller, and its role."""
    return ok({"actor": engine.actor, "role": request.state.role})
