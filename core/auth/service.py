"""API tokens: create, list, revoke, and authenticate a bearer secret.

A secret is `mlc_` + 32 random bytes (urlsafe base64); only its sha256 is stored, so a stolen
database does not hand out working tokens. Roles are ordered viewer < operator < admin.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from typing import Any

from core import audit
from core.clock import as_utc, utcnow
from core.domain import ApiToken, Role
from core.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from storage.repos import tokens as repo
from storage.store import Store

SECRET_PREFIX = "mlc_"
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def role_allows(have: Role, need: Role) -> bool:
    """True when a token of role `have` may do what needs role `need`."""
    return _RANK[have] >= _RANK[need]


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}: use viewer, operator or admin") from None


def _is_token_name(name: object) -> bool:
    """A lowercase slug of at most 63 characters (the check also refuses a non-string from
    a Python caller)."""
    return isinstance(name, str) and bool(_NAME.match(name)) and len(name) <= 63


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _token(row: dict[str, Any]) -> ApiToken:
    revoked, used = row["revoked_at"], row["last_used_at"]
    return ApiToken(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=as_utc(row["created_at"]),
        created_by=row["created_by"],
        revoked_at=None if revoked is None else as_utc(revoked),
        last_used_at=None if used is None else as_utc(used),
    )


class TokenService:
    """Tokens over the store. Authentication reads a short-lived in-memory copy of the table.

    Every request authenticates, and a database read per request would cost the data plane
    more than the check itself; mutations made through this service refresh the copy at once,
    and `CACHE_TTL_S` bounds how stale it can be against a change made elsewhere.
    """

    CACHE_TTL_S = 5.0
    TOUCH_EVERY_S = 60.0
    """`last_used_at` is written at most this often per token: a write per request is waste."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._cache: list[tuple[str, ApiToken]] = []
        self._loaded_at = -float("inf")
        self._touched: dict[str, float] = {}

    def create(self, name: str, role: str, *, actor: str) -> tuple[ApiToken, str]:
        """A new token and its secret; the secret is not stored and cannot be shown again."""
        if not _is_token_name(name):
            raise InvalidInput(
                f"invalid token name {name!r}: use lowercase letters, digits and single hyphens,"
                " starting with a letter (at most 63 characters), e.g. ci-deploy"
            )
        role_ = parse_role(role)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        row = {
            "id": "tok_" + secrets.token_hex(6),
            "name": name,
            "role": role_.value,
            "secret_sha256": _hash(secret),
            "created_at": utcnow(),
            "created_by": actor,
        }
        with self.store.write() as conn:
            if repo.find(conn, name) is not None:
                raise Conflict(f"token name {name!r} is taken (revoked tokens keep their names)")
            repo.insert(conn, row)
            token = _token({**row, "revoked_at": None, "last_used_at": None})
            audit.append(
                conn, actor=actor, action="token.create", target=f"token:{name}",
                after={"id": token.id, "name": name, "role": role_.value},
            )  # fmt: skip
        self._invalidate()
        return token, secret

    def list(self) -> list[ApiToken]:
        with self.store.read() as conn:
            return [_token(r) for r in repo.list_all(conn)]

    def revoke(self, id_or_name: str, *, actor: str) -> ApiToken:
        """Revoke by id or name; revoking twice is a conflict (the first revocation stands)."""
        now = utcnow()
        with self.store.write() as conn:
            row = repo.find(conn, id_or_name)
            if row is None:
                raise NotFound(f"token {id_or_name!r} not found")
            token = _token(row)
            if token.revoked_at is not None:
                raise Conflict(
                    f"token {token.name!r} was already revoked at"
                    f" {token.revoked_at:%Y-%m-%d %H:%M:%S}"
                )
            repo.revoke(conn, token.id, now, actor)
            audit.append(
                conn, actor=actor, action="token.revoke", target=f"token:{token.name}",
                before={"id": token.id, "role": token.role.value, "revoked": False},
                after={"id": token.id, "role": token.role.value, "revoked": True},
            )  # fmt: skip
        self._invalidate()
        token.revoked_at = now
        return token

    def authenticate(self, secret: str) -> ApiToken:
        """The active token whose secret this is; `Unauthenticated` otherwise."""
        found = self._match(secret, self._tokens())
        self._touch(found)
        return found

    def authenticate_at_once(self, secret: str) -> ApiToken | None:
        """`authenticate` from memory alone, for a server's event loop: None when that would
        read the store (the cached tokens are stale) or write it (the token's last use is due
        to be recorded); the caller then authenticates in a worker thread."""
        now = time.monotonic()
        with self._lock:
            if self._stale(now):
                return None
            tokens = self._cache
        found = self._match(secret, tokens)
        with self._lock:
            due = now - self._touched.get(found.id, -float("inf")) >= self.TOUCH_EVERY_S
        return None if due else found

    @staticmethod
    def _match(secret: str, tokens: list[tuple[str, ApiToken]]) -> ApiToken:
        if not secret.startswith(SECRET_PREFIX):
            raise Unauthenticated("invalid token: an mlc token starts with 'mlc_'")
        digest = _hash(secret)
        found = None
        for stored, token in tokens:
            # Constant-time per comparison, and every token is compared: how long this takes
            # says nothing about how close a guess came.
            if hmac.compare_digest(stored, digest):
                found = token
        if found is None:
            raise Unauthenticated("invalid token: no such token")
        if found.revoked_at is not None:
            raise Unauthenticated(f"token {found.name!r} has been revoked")
        return found

    def _stale(self, now: float) -> bool:
        return now - self._loaded_at > self.CACHE_TTL_S

    def _tokens(self) -> list[tuple[str, ApiToken]]:
        with self._lock:
            if self._stale(time.monotonic()):
                with self.store.read() as conn:
                    rows = repo.list_all(conn)
                self._cache = [(str(r["secret_sha256"]), _token(r)) for r in rows]
                self._loaded_at = time.monotonic()
            return self._cache

    def _invalidate(self) -> None:
        with self._lock:
            self._loaded_at = -float("inf")

    def _touch(self, token: ApiToken) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(token.id, -float("inf")) < self.TOUCH_EVERY_S:
                return
            self._touched[token.id] = now
        with self.store.write() as conn:
            repo.touch(conn, token.id, utcnow())
