"""`/api/v1/tokens`: API tokens (admin only, listing included: it names who holds access)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.api.auth import Admin
from app.api.render import doc, ok
from app.api.schemas import CreateToken, NewToken, TokenList
from core.domain import ApiToken

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.get("", response_model=None, responses=doc(TokenList))
def list_tokens(engine: Admin) -> Response:
    return ok({"tokens": engine.list_tokens()})


@router.post("", status_code=201, response_model=None, responses=doc(NewToken, 201))
def create_token(body: CreateToken, engine: Admin) -> Response:
    """The secret is in this answer only: it is stored as a sha256 hash."""
    token, secret = engine.create_token(body.name, body.role)
    return ok({"token": token, "secret": secret}, 201)


@router.post("/{token}/revoke", response_model=None, responses=doc(ApiToken))
def revoke_token(token: str, engine: Admin) -> Response:
    """Revoke by id (`tok_…`) or name; a revoked token answers 401 from then on."""
    return ok(engine.revoke_token(token))
