"""`/api/v1/audit`: the audit trail and its hash-chain check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.api.auth import Viewer
from app.api.render import doc, ok
from app.api.schemas import AuditList
from core.domain import AuditVerification

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=None, responses=doc(AuditList))
def list_audit(
    engine: Viewer,
    model: str | None = None,
    action: Annotated[str | None, Query(description="An action, or a family: 'version'")] = None,
    since: Annotated[datetime | None, Query(description="ISO-8601 time")] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Records oldest first; with `limit`, the newest `limit` of them."""
    return ok({"records": engine.list_audit(model=model, action=action, since=since, limit=limit)})


@router.get("/verify", response_model=None, responses=doc(AuditVerification))
def verify_audit(engine: Viewer) -> Response:
    return ok(engine.verify_audit())
