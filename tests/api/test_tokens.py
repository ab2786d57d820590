"""`TokenService`: hashed storage, audited mutations, revocation, role order."""

from __future__ import annotations

import hashlib

import pytest

from core.auth import Unauthenticated, role_allows
from core.domain import Role
from core.engine import LocalEngine
from core.errors import Conflict, InvalidInput, NotFound


def _stored(engine: LocalEngine) -> list[dict[str, object]]:
    with engine.store.read() as conn:
        return conn.rows("SELECT * FROM api_tokens ORDER BY created_at")


def test_a_token_is_stored_only_as_a_hash(engine: LocalEngine) -> None:
    token, secret = engine.create_token("ci-deploy", "operator")
    assert secret.startswith("mlc_") and len(secret) > 40
    assert token.name == "ci-deploy" and token.role is Role.OPERATOR
    assert token.created_by == "test:alice" and token.revoked_at is None
    (row,) = _stored(engine)
    assert row["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row)
    assert engine.tokens.authenticate(secret) == token


def test_create_and_revoke_are_audited_without_the_secret(engine: LocalEngine) -> None:
    token, secret = engine.create_token("ci", "viewer")
    engine.revoke_token(token.id)
    records = engine.list_audit(action="token")
    assert [(r.action, r.target, r.actor) for r in records] == [
        ("token.create", "token:ci", "test:alice"),
        ("token.revoke", "token:ci", "test:alice"),
    ]
    assert all(secret not in repr(r) for r in records)
    assert engine.verify_audit().ok


def test_revoked_and_unknown_secrets_are_refused(engine: LocalEngine) -> None:
    _, secret = engine.create_token("ci", "admin")
    engine.revoke_token("ci")
    with pytest.raises(Unauthenticated, match="'ci' has been revoked"):
        engine.tokens.authenticate(secret)
    with pytest.raises(Unauthenticated, match="no such token"):
        engine.tokens.authenticate("mlc_" + "x" * 43)
    with pytest.raises(Unauthenticated, match="starts with 'mlc_'"):
        engine.tokens.authenticate("hunter2")


def test_revoking_twice_or_an_unknown_token_fails_clearly(engine: LocalEngine) -> None:
    engine.create_token("ci", "viewer")
    revoked = engine.revoke_token("ci")
    assert revoked.revoked_at is not None
    with pytest.raises(Conflict, match="already revoked"):
        engine.revoke_token("ci")
    with pytest.raises(NotFound, match="'nobody' not found"):
        engine.revoke_token("nobody")
    assert engine.list_tokens()[0].revoked_at == revoked.revoked_at


def test_names_are_unique_slugs_and_roles_are_known(engine: LocalEngine) -> None:
    engine.create_token("ci", "viewer")
    with pytest.raises(Conflict, match="taken"):
        engine.create_token("ci", "admin")
    with pytest.raises(InvalidInput, match="invalid token name"):
        engine.create_token("CI Bot", "viewer")
    with pytest.raises(InvalidInput, match="unknown role 'root'"):
        engine.create_token("bot", "root")


def test_last_use_is_recorded(engine: LocalEngine) -> None:
    _, secret = engine.create_token("ci", "viewer")
    assert engine.list_tokens()[0].last_used_at is None
    engine.tokens.authenticate(secret)
    assert engine.list_tokens()[0].last_used_at is not None


def test_roles_are_ordered() -> None:
    assert role_allows(Role.ADMIN, Role.OPERATOR) and role_allows(Role.OPERATOR, Role.OPERATOR)
    assert not role_allows(Role.VIEWER, Role.OPERATOR)
    assert not role_allows(Role.OPERATOR, Role.ADMIN)


def test_authenticating_at_once_never_touches_the_store(
    engine: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a server's event loop may call: the same answer as `authenticate` from memory,
    or None when the store must be read (stale copy) or written (last use due)."""
    token, secret = engine.create_token("ci", "viewer")
    assert engine.tokens.authenticate_at_once(secret) is None  # its first use is due
    assert engine.tokens.authenticate(secret) == token  # records it
    used = engine.list_tokens()[0].last_used_at

    def no_store(*args: object, **kwargs: object) -> None:
        raise AssertionError("the store was used")

    monkeypatch.setattr(engine.tokens.store, "read", no_store)
    monkeypatch.setattr(engine.tokens.store, "write", no_store)
    assert engine.tokens.authenticate_at_once(secret) == token
    with pytest.raises(Unauthenticated, match="no such token"):
        engine.tokens.authenticate_at_once("mlc_" + "x" * 43)
    monkeypatch.setattr(engine.tokens, "CACHE_TTL_S", -1.0)  # the copy is now stale
    assert engine.tokens.authenticate_at_once(secret) is None
    monkeypatch.undo()
    assert engine.list_tokens()[0].last_used_at == used


def test_a_revoked_token_is_refused_at_once(engine: LocalEngine) -> None:
    _, secret = engine.create_token("ci", "admin")
    engine.tokens.authenticate(secret)
    engine.revoke_token("ci")
    with pytest.raises(Unauthenticated, match="'ci' has been revoked"):
        engine.tokens.authenticate(secret)  # refreshes the copy, which revoking invalidated
    with pytest.raises(Unauthenticated, match="'ci' has been revoked"):
        engine.tokens.authenticate_at_once(secret)
