"""API tokens' operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from typing import Protocol

from core.domain import ApiToken


class Tokens(Protocol):
    """API tokens: a secret shown once, stored hashed; revocable by id or name."""

    def create_token(self, name: str, role: str) -> tuple[ApiToken, str]:
        """The token record and its secret, which is shown once and stored only hashed."""
        ...

    def list_tokens(self) -> list[ApiToken]: ...

    def revoke_token(self, token: str) -> ApiToken:
        """Revoke by id or name."""
        ...
