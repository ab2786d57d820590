"""`/api/v1/fleet`: every model's traffic, health, drift, alerts, tests and rollout at once."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.api.auth import Viewer
from app.api.render import ok

router = APIRouter(prefix="/api/v1/fleet", tags=["monitoring"])


@router.get("", response_model=None)
def fleet_status(engine: Viewer, window_s: float = 300) -> Response:
    """`{"models": [ModelHealth, ...]}` over the last `window_s` seconds of production."""
    return ok({"models": engine.fleet_status(window_s)})
