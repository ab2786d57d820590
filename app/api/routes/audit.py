"""`/api/v1/audit`: the audit trail, its check and its head. The audit key is never served."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.api.auth import Viewer
from app.api.render import doc, ok
from app.api.schemas import AuditList
from core import audit
from core.domain import AuditHead, AuditVerification

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
def verify_audit(
    engine: Viewer,
    head: Annotated[
        str | None,
        Query(description="SEQ:HASH, a head taken earlier (`GET /api/v1/audit/head`)"),
    ] = None,
) -> Response:
    """The chain, the key and the store's head; with `head`, also that the log still leads
    through that record unchanged. `truncated_after` is set when the log ends before a head."""
    anchor = None if head is None else audit.parse_head(head)
    return ok(engine.verify_audit(head=anchor))


@router.get("/head", response_model=None, responses=doc(AuditHead))
def audit_head(engine: Viewer) -> Response:
    """The newest record's `{seq, hash, at}`, to keep off the host and check later."""
    return ok(engine.audit_head())
