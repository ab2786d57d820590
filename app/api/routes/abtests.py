"""`/api/v1/ab-tests`: experiments between versions of a model."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from app.api.auth import Operator, Viewer
from app.api.render import ok
from app.api.schemas import Reason
from core.abtesting import ABTestConfig

router = APIRouter(prefix="/api/v1/ab-tests", tags=["ab-tests"])


class Split(BaseModel):
    split: dict[str, float]
    reason: str = ""


class Promote(BaseModel):
    force: bool = False
    reason: str = ""


@router.get("", response_model=None)
def list_tests(engine: Viewer, model: str | None = None) -> Response:
    return ok({"tests": engine.list_ab_tests(model=model)})


@router.post("", status_code=201, response_model=None)
def create_test(body: ABTestConfig, engine: Operator, reason: str = "") -> Response:
    """The body is the engine's own `ABTestConfig` (FastAPI validates the dataclass)."""
    return ok(engine.create_ab_test(body, reason=reason), 201)


@router.get("/{test_id}", response_model=None)
def get_test(test_id: str, engine: Viewer) -> Response:
    return ok(engine.get_ab_test(test_id))


@router.get("/{test_id}/results", response_model=None)
def results(test_id: str, engine: Viewer) -> Response:
    return ok(engine.analyze_test_results(test_id))


@router.post("/{test_id}/start", response_model=None)
def start(test_id: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.start_ab_test(test_id, reason=body.reason))


@router.post("/{test_id}/pause", response_model=None)
def pause(test_id: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.pause_ab_test(test_id, reason=body.reason))


@router.post("/{test_id}/stop", response_model=None)
def stop(test_id: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.stop_ab_test(test_id, reason=body.reason))


@router.put("/{test_id}/split", response_model=None)
def split(test_id: str, body: Split, engine: Operator) -> Response:
    return ok(engine.update_traffic_split(test_id, body.split, reason=body.reason))


@router.post("/{test_id}/promote", response_model=None)
def promote(test_id: str, body: Promote, engine: Operator) -> Response:
    return ok(engine.promote_winner(test_id, force=body.force, reason=body.reason))
