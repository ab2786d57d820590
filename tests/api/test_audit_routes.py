"""`/api/v1/audit/head` and `/api/v1/audit/verify?head=`: a viewer anchors the head and checks
it later, the remote engine answers as the local one, and the audit key is never served."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.client import RemoteEngine
from core.domain import Role
from core.engine import LocalEngine
from storage.paths import AUDIT_KEY_FILE
from tests.core.audit_tampering import delete_newest


@pytest.fixture
def viewer(home: Path) -> Iterator[tuple[LocalEngine, TestClient]]:
    engine = LocalEngine.open(home, actor="local:tester")
    _, secret = engine.create_token("reader", Role.VIEWER.value)
    for i in range(4):
        engine.create_model(f"m{i}", "classification")
    client = TestClient(create_app(engine, require_auth=True), raise_server_exceptions=True)
    client.headers["Authorization"] = f"Bearer {secret}"
    try:
        yield engine, client
    finally:
        client.close()
        engine.close()


def test_a_viewer_reads_the_head_and_verifies_against_it(
    viewer: tuple[LocalEngine, TestClient],
) -> None:
    engine, client = viewer
    head = client.get("/api/v1/audit/head").json()
    local = engine.audit_head()
    assert head == {"seq": 5, "hash": local.hash, "at": local.at.isoformat() if local.at else None}
    res = client.get("/api/v1/audit/verify", params={"head": f"5:{local.hash}"})
    assert res.status_code == 200 and res.json()["ok"] is True
    assert res.json()["head"]["seq"] == 5 and res.json()["keyed_from"] == 1
    delete_newest(engine.store, 2)
    doc = client.get("/api/v1/audit/verify", params={"head": f"5:{local.hash}"}).json()
    assert doc["ok"] is False and doc["truncated_after"] == 3
    assert doc["problem"] == "truncated after 3: audit.head names record 5"


def test_a_malformed_head_is_400(viewer: tuple[LocalEngine, TestClient]) -> None:
    _, client = viewer
    res = client.get("/api/v1/audit/verify", params={"head": "5:nothex"})
    assert res.status_code == 400 and "a head is SEQ:HASH" in res.text


def test_the_remote_engine_answers_as_the_local_one(
    viewer: tuple[LocalEngine, TestClient],
) -> None:
    engine, client = viewer
    remote = RemoteEngine(http=client)
    anchor = engine.audit_head()
    assert remote.audit_head() == anchor
    assert remote.verify_audit(head=anchor) == engine.verify_audit(head=anchor)
    delete_newest(engine.store, 1)
    truncated = remote.verify_audit(head=anchor)
    assert truncated == engine.verify_audit(head=anchor) and truncated.truncated_after == 4


def test_the_audit_key_is_never_served(viewer: tuple[LocalEngine, TestClient], home: Path) -> None:
    engine, client = viewer
    key = (home / AUDIT_KEY_FILE).read_bytes()
    forms = {key.hex(), base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode()}
    head = engine.audit_head()
    answers = [
        client.get(path)
        for path in ("/api/v1/audit", "/api/v1/audit/head", "/api/v1/audit/verify",
                     f"/api/v1/audit/verify?head={head}", "/openapi.json")
    ]  # fmt: skip
    delete_newest(engine.store, 1)
    answers.append(client.get("/api/v1/audit/verify"))
    for res in answers:
        assert res.status_code == 200
        assert not any(form in res.text for form in forms)
        assert key not in res.content
