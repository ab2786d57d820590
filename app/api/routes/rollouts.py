"""`/api/v1/models/{name}/rollouts/{environment}`: progressive rollouts."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.api.auth import Operator, Viewer
from app.api.render import doc, ok
from app.api.schemas import Reason, StartRollout
from core.domain import Rollout

router = APIRouter(prefix="/api/v1/models/{name}/rollouts/{environment}", tags=["rollouts"])


@router.post("", status_code=201, response_model=None, responses=doc(Rollout, 201))
def start_rollout(name: str, environment: str, body: StartRollout, engine: Operator) -> Response:
    rollout = engine.start_rollout(
        name, body.version, environment=environment, steps=body.steps,
        interval_s=body.interval_s, guardrails=body.guardrails,
        failure_limit=body.failure_limit, min_samples=body.min_samples, reason=body.reason,
    )  # fmt: skip
    return ok(rollout, 201)


@router.get("", response_model=None, responses=doc(Rollout))
def get_rollout(name: str, environment: str, engine: Viewer) -> Response:
    return ok(engine.get_rollout(name, environment=environment))


@router.post("/pause", response_model=None, responses=doc(Rollout))
def pause_rollout(name: str, environment: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.pause_rollout(name, environment=environment, reason=body.reason))


@router.post("/resume", response_model=None, responses=doc(Rollout))
def resume_rollout(name: str, environment: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.resume_rollout(name, environment=environment, reason=body.reason))


@router.post("/promote", response_model=None, responses=doc(Rollout))
def promote_rollout(name: str, environment: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.promote_rollout(name, environment=environment, reason=body.reason))


@router.post("/abort", response_model=None, responses=doc(Rollout))
def abort_rollout(name: str, environment: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.abort_rollout(name, environment=environment, reason=body.reason))
