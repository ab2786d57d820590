"""`LocalEngine`'s API token operations (`core.auth.protocol.Tokens`), in this process."""

from __future__ import annotations

from core.auth.service import TokenService
from core.domain import ApiToken
from core.forward import forward


class LocalTokens:
    """Token operations over `TokenService`, audited under the engine's actor."""

    actor: str
    tokens: TokenService

    list_tokens = forward("tokens", TokenService.list)

    def create_token(self, name: str, role: str) -> tuple[ApiToken, str]:
        return self.tokens.create(name, role, actor=self.actor)

    def revoke_token(self, token: str) -> ApiToken:
        return self.tokens.revoke(token, actor=self.actor)
