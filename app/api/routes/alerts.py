"""`/api/v1/alerts`: rules, alerts and their history, acknowledgements, silences."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from app.api.auth import Operator, Viewer
from app.api.render import ok
from app.api.schemas import Reason

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


class CreateRule(BaseModel):
    model: str
    metric: str
    comparison: str
    threshold: float
    window_s: int = 300
    for_s: int = 0
    severity: str = "warning"
    channels: list[str] | None = None
    repeat_s: int = 3600


class Ack(BaseModel):
    comment: str


class CreateSilence(BaseModel):
    rule_id: str | None = None
    model: str | None = None
    duration_s: float
    comment: str = ""


@router.get("/rules", response_model=None)
def list_rules(engine: Viewer, model: str | None = None) -> Response:
    return ok({"rules": engine.list_alert_rules(model=model)})


@router.post("/rules", status_code=201, response_model=None)
def create_rule(body: CreateRule, engine: Operator) -> Response:
    rule = engine.create_alert_rule(
        body.model, body.metric, body.comparison, body.threshold, window_s=body.window_s,
        for_s=body.for_s, severity=body.severity, channels=body.channels, repeat_s=body.repeat_s,
    )  # fmt: skip
    return ok(rule, 201)


@router.post("/rules/{rule_id}/enable", response_model=None)
def enable_rule(rule_id: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.set_alert_rule_active(rule_id, True, reason=body.reason))


@router.post("/rules/{rule_id}/disable", response_model=None)
def disable_rule(rule_id: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.set_alert_rule_active(rule_id, False, reason=body.reason))


@router.post("/rules/{rule_id}/delete", response_model=None)
def delete_rule(rule_id: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.delete_alert_rule(rule_id, reason=body.reason))


@router.get("", response_model=None)
def list_alerts(
    engine: Viewer, state: str | None = None, model: str | None = None, limit: int | None = None
) -> Response:
    return ok({"alerts": engine.list_alerts(state=state, model=model, limit=limit)})


@router.get("/history", response_model=None)
def history(
    engine: Viewer, alert_id: str | None = None, model: str | None = None, limit: int | None = None
) -> Response:
    return ok({"transitions": engine.alert_history(alert_id=alert_id, model=model, limit=limit)})


@router.post("/evaluate", response_model=None)
def evaluate(engine: Operator) -> Response:
    return ok({"transitions": engine.evaluate_alerts()})


@router.post("/{alert_id}/ack", response_model=None)
def ack(alert_id: str, body: Ack, engine: Operator) -> Response:
    return ok(engine.ack_alert(alert_id, body.comment))


@router.get("/silences", response_model=None)
def list_silences(engine: Viewer, active_only: bool = False) -> Response:
    return ok({"silences": engine.list_silences(active_only=active_only)})


@router.post("/silences", status_code=201, response_model=None)
def silence(body: CreateSilence, engine: Operator) -> Response:
    found = engine.silence_alerts(
        rule_id=body.rule_id, model=body.model, duration_s=body.duration_s, comment=body.comment
    )
    return ok(found, 201)


@router.post("/silences/{silence_id}/expire", response_model=None)
def expire_silence(silence_id: str, body: Reason, engine: Operator) -> Response:
    return ok(engine.expire_silence(silence_id, reason=body.reason))
