"""`mlc serve --insecure` stays local: a real server refuses requests addressed to a foreign
Host (DNS rebinding) and cross-site ones (a foreign Origin, a body not declared JSON), while
loopback callers and the Unix socket act as before. Data-plane bodies must be declared JSON on
every server, tokens or not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from app.api.guard import is_loopback_host, refusal
from core.domain import Role
from core.engine import LocalEngine
from tests.api.conftest import FEATURES, World
from tests.api.test_serve import Served, start_server

MODEL = "credit"
EVENT = b'[{"request_id": "x-1", "version": "v1", "prediction": 1}]'


@pytest.fixture(scope="module")
def insecure(tmp_path_factory: pytest.TempPathFactory, artifact_bytes: bytes) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("insecure") / "store"
    engine = LocalEngine.open(home, actor="local:tester")
    try:
        engine.create_model(MODEL, "classification", target="default", features=FEATURES)
        engine.register_version(MODEL, artifact_bytes, algorithm="logistic_regression")
        engine.transition_version(MODEL, "v1", "validated")
    finally:
        engine.close()
    server = start_server(home, "--insecure")
    try:
        yield server
    finally:
        server.stop()


def _port(served: Served) -> int:
    port = urlsplit(served.url).port
    assert port is not None
    return port


def _tag(served: Served, key: str, headers: dict[str, str]) -> httpx.Response:
    """A change anyone may repeat: set a tag of v1 (the issue's probe was a deploy)."""
    return httpx.put(
        f"{served.url}/api/v1/models/{MODEL}/versions/v1/tags/{key}",
        json={"value": "set"}, headers=headers, timeout=60,
    )  # fmt: skip


def _tags(served: Served) -> dict[str, str]:
    transport = httpx.HTTPTransport(uds=str(served.socket))
    with httpx.Client(transport=transport, base_url="http://mlc", timeout=60) as socket:
        res = socket.get(f"/api/v1/models/{MODEL}/versions/v1")
    assert res.status_code == 200, res.text
    return res.json()["tags"]


def test_a_foreign_host_is_refused_and_changes_nothing(insecure: Served) -> None:
    deploy = httpx.post(
        f"{insecure.url}/api/v1/models/{MODEL}/deployments/staging",
        json={"version": "v1", "reason": "rebinding"}, headers={"Host": "attacker.example"},
        timeout=60,
    )  # fmt: skip
    assert deploy.status_code == 403, deploy.text
    assert deploy.json()["error"] == "permission"
    assert "attacker.example" in deploy.json()["detail"]
    assert "DNS rebinding" in deploy.json()["detail"]
    res = _tag(insecure, "foreign", {"Host": f"attacker.example:{_port(insecure)}"})
    assert res.status_code == 403
    transport = httpx.HTTPTransport(uds=str(insecure.socket))
    with httpx.Client(transport=transport, base_url="http://mlc", timeout=60) as socket:
        history = socket.get(f"/api/v1/models/{MODEL}/deployments").json()["revisions"]
    assert history == [] and "foreign" not in _tags(insecure)


def test_loopback_hosts_are_served(insecure: Served) -> None:
    port = _port(insecure)
    for i, host in enumerate((f"127.0.0.1:{port}", f"localhost:{port}", "localhost")):
        res = _tag(insecure, f"host{i}", {"Host": host})
        assert res.status_code == 200, f"{host}: {res.text}"
    assert {"host0", "host1", "host2"} <= set(_tags(insecure))
    whoami = httpx.get(f"{insecure.url}/api/v1/whoami", timeout=60).json()
    assert whoami["role"] == "admin"  # --insecure: every local caller is the local admin


def test_a_cross_site_origin_is_refused(insecure: Served) -> None:
    for i, origin in enumerate(
        ("http://attacker.example", "null", "http://127.0.0.1.attacker.example")
    ):
        res = _tag(insecure, f"origin{i}", {"Origin": origin})
        assert res.status_code == 403, f"{origin}: {res.text}"
        assert "cross-site" in res.json()["detail"]
    assert not any(key.startswith("origin") for key in _tags(insecure))
    page_on_loopback = _tag(insecure, "page", {"Origin": "http://localhost:3000"})
    assert page_on_loopback.status_code == 200, page_on_loopback.text


def test_a_text_plain_post_of_events_is_refused_and_stores_nothing(insecure: Served) -> None:
    url = f"{insecure.url}/v1/models/{MODEL}/events"
    for content_type in ("text/plain", "text/plain;charset=UTF-8",
                         "application/x-www-form-urlencoded", None):  # fmt: skip
        headers = {} if content_type is None else {"Content-Type": content_type}
        res = httpx.post(url, content=EVENT, headers=headers, timeout=60)
        assert res.status_code == 415, f"{content_type}: {res.text}"
        assert res.json()["error"] == "invalid" and "application/json" in res.json()["detail"]
    # A browser's cross-site POST carries its page's Origin: refused before the body is read.
    res = httpx.post(url, content=EVENT, timeout=60,
                     headers={"Content-Type": "text/plain", "Origin": "http://attacker.example"})  # fmt: skip
    assert res.status_code == 403
    ok = httpx.post(url, content=EVENT, headers={"Content-Type": "application/json"}, timeout=60)
    assert ok.status_code == 200, ok.text
    assert ok.json()["new"] == 1  # none of the refused copies was stored


def test_the_unix_socket_takes_any_host(insecure: Served) -> None:
    transport = httpx.HTTPTransport(uds=str(insecure.socket))
    with httpx.Client(transport=transport, base_url="http://anything.example", timeout=60) as c:
        res = c.get("/api/v1/whoami", headers={"Origin": "http://attacker.example"})
    assert res.status_code == 200 and res.json()["role"] == "admin"


def test_data_plane_bodies_must_be_json_with_a_token_too(world: World) -> None:
    name = world.deployed(1)
    headers = {**world.headers(Role.OPERATOR), "Content-Type": "text/plain"}
    res = world.client.post(f"/v1/models/{name}/events", content=EVENT, headers=headers)
    assert res.status_code == 415, res.text
    res = world.client.post(
        f"/v1/models/{name}/predict",
        content=b'{"features": {"age": 40, "region": "north"}}',
        headers={**world.headers(Role.VIEWER), "Content-Type": "text/plain"},
    )
    assert res.status_code == 415, res.text
    json_type = {**world.headers(Role.OPERATOR), "Content-Type": "application/json; charset=utf-8"}
    res = world.client.post(f"/v1/models/{name}/events", content=EVENT, headers=json_type)
    assert res.status_code == 200, res.text
    # With tokens the Host is not checked: a token is never sent by a browser on its own.
    res = world.client.get("/api/v1/whoami", headers={**world.headers(Role.VIEWER),
                                                      "Host": "mlc.internal.example"})  # fmt: skip
    assert res.status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("LOCALHOST:8765", True), ("127.0.0.1", True), ("127.3.4.5:80", True),
     ("[::1]", True), ("[::1]:8765", True), ("::1", False), ("localhost.", False),
     ("localhost:http", False), ("127.0.0.1.nip.io", False), ("attacker.example", False),
     ("0.0.0.0", False), ("[::1]x", False), ("[::ffff:10.0.0.1]", False), ("", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_refusal_names_the_problem() -> None:
    assert refusal("localhost:1", None) is None
    assert refusal("localhost:1", "https://[::1]:8443") is None
    assert "Host None" in (refusal(None, None) or "")
    assert "cross-site" in (refusal("127.0.0.1", "http://localhost/evil/path") or "")
    assert "cross-site" in (refusal("127.0.0.1", "file://") or "")


def test_the_readme_says_insecure_gives_every_local_user_admin_rights() -> None:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "gives every local user admin rights" in " ".join(text.split())
