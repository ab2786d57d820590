"""API tokens' operations of the engine (`core.engine.Engine`). Each is declared here once, with
its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from typing import Protocol

from core.auth.service import TokenService
from core.domain import ApiToken
from core.forward import forward, in_process


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    actor: str
    tokens: TokenService


class Tokens(Protocol):
    """API tokens: a secret shown once, stored hashed; revocable by id or name."""

    def create_token(self, name: str, role: str) -> tuple[ApiToken, str]:
        """The token record and its secret, which is shown once and stored only hashed."""
        parts = in_process(self, _Parts)
        return parts.tokens.create(name, role, actor=parts.actor)

    list_tokens = forward("tokens", TokenService.list)

    def revoke_token(self, token: str) -> ApiToken:
        """Revoke by id or name."""
        parts = in_process(self, _Parts)
        return parts.tokens.revoke(token, actor=parts.actor)
