"""API tokens and roles: create, list, revoke, authenticate (`core.auth.service`)."""

from core.auth.service import SECRET_PREFIX, TokenService, parse_role, role_allows
from core.errors import Unauthenticated

__all__ = ["SECRET_PREFIX", "TokenService", "Unauthenticated", "parse_role", "role_allows"]
