"""`/api/v1/retrain-policies`: alert → training loops."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from app.api.auth import Operator, Viewer
from app.api.render import ok

router = APIRouter(prefix="/api/v1/retrain-policies", tags=["retrain"])


class CreatePolicy(BaseModel):
    model: str
    rule_id: str
    config_path: str
    cooldown_s: int = 3600
    canary: dict[str, Any] | None = None


@router.get("", response_model=None)
def list_policies(engine: Viewer, model: str | None = None) -> Response:
    return ok({"policies": engine.list_retrain_policies(model=model)})


@router.post("", status_code=201, response_model=None)
def create_policy(body: CreatePolicy, engine: Operator) -> Response:
    policy = engine.create_retrain_policy(
        body.model, body.rule_id, body.config_path, cooldown_s=body.cooldown_s, canary=body.canary
    )
    return ok(policy, 201)


@router.post("/{policy_id}/delete", response_model=None)
def delete_policy(policy_id: str, engine: Operator) -> Response:
    return ok(engine.delete_retrain_policy(policy_id))
