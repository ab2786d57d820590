"""`/api/v1/fleet`: every model's traffic, health, drift, alerts, tests and rollout at once;
`/api/v1/fleet/{name}`: one model's health per version."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import Response

from app.api.auth import Viewer
from app.api.render import doc, ok
from core.fleet import WINDOW_S, VersionsHealth

router = APIRouter(prefix="/api/v1/fleet", tags=["monitoring"])


@router.get("", response_model=None)
def fleet_status(engine: Viewer, window_s: float = WINDOW_S) -> Response:
    """`{"models": [ModelHealth, ...]}` over the last `window_s` seconds of production; each
    row carries its interval (`window_s`, `start`, `end`)."""
    return ok({"models": engine.fleet_status(window_s)})


@router.get("/{name}", response_model=None, responses=doc(VersionsHealth))
def health_by_version(
    name: str, engine: Viewer, window_s: float = WINDOW_S, end: datetime | None = None
) -> Response:
    """One model's traffic per version over the last `window_s` seconds up to `end`."""
    return ok(engine.health_by_version(name, window_s=window_s, end=end))
