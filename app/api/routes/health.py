"""Liveness and readiness (unauthenticated: clients and load balancers probe them), and
who-am-I.

- `GET /healthz`: the process is up and its control plane answers (clients probe the Unix
  socket with it). `GET /api/v1/health` is the same answer, kept for existing callers.
- `GET /readyz`: the store is open, its journal replayed and every serving version loaded
  and smoke-tested (`core.serving.readiness`): 200 when ready, else 503 with Retry-After,
  saying what the owner still waits for. Send traffic only once it answers 200.

Both run on the control plane's loop, so a saturated data plane never makes a live owner
look dead to a probe.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.auth import Viewer
from app.api.render import doc, ok
from app.api.schemas import Health, Readiness, WhoAmI
from core.engine import LocalEngine

router = APIRouter(tags=["health"])


@router.get("/api/v1/health", response_model=None, responses=doc(Health))
def health() -> Response:
    """Always answers while the server runs; needs no token."""
    return ok({"ok": True, "pid": os.getpid()})


@router.get("/healthz", response_model=None, responses=doc(Health))
async def healthz() -> Response:
    """Liveness: answers while the process runs."""
    # Async: answered on the loop itself, without waiting for a worker thread.
    return ok({"ok": True, "pid": os.getpid()})


@router.get("/readyz", response_model=None, responses=doc(Readiness))
async def readyz(request: Request) -> Response:
    """Readiness: 200 once the store is open, its journal replayed and every serving version
    loaded and smoke-tested; else 503 with Retry-After, naming what it waits for."""
    engine: LocalEngine = request.app.state.engine
    status = readiness(engine)
    answer = ok(status, status_code=200 if status["ready"] else 503)
    if not status["ready"]:
        answer.headers["Retry-After"] = "1"
    return answer


def readiness(engine: LocalEngine) -> dict[str, Any]:
    """The readiness document: `{"ready", "pid", "store_open", "journal_replayed",
    "versions", "checked", "failed": [{"model", "version", "error"}], "took_s",
    "waiting_for"}`."""
    warm = engine.readiness.doc()
    store_open = not engine.store.closed
    events_ok = engine.writer.failure is None
    waiting_for = engine.readiness.waiting_for()
    if not store_open:
        waiting_for = "the store is closing"
    elif not events_ok:
        waiting_for = f"events cannot be stored ({engine.writer.failure}); restart the owner"
    return {
        "ready": warm["ready"] and store_open and events_ok,
        "pid": os.getpid(),
        "store_open": store_open,
        "journal_replayed": True,  # the engine exists only once its journal is replayed
        **{k: v for k, v in warm.items() if k != "ready"},
        "waiting_for": waiting_for or None,
    }


@router.get("/api/v1/whoami", response_model=None, responses=doc(WhoAmI))
def whoami(engine: Viewer, request: Request) -> Response:
    """The actor that audit records will name for this caller, and its role."""
    return ok({"actor": engine.actor, "role": request.state.role})
