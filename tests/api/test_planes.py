"""The control plane apart from the data plane, admission by queueing delay and readiness, on
real servers (`ApiServers`: a Unix socket and a TCP port on loopback) in this process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.admission import Admission
from app.api.listeners import tcp_listener, unix_listener, url_of
from app.api.server import ApiServers
from app.client import RemoteEngine
from core.engine import LocalEngine
from storage.paths import SOCKET_FILE
from tests.api.conftest import FEATURES
from tests.e2e.load import fitted

MODEL = "m"
ONE = {"features": {"age": 41, "region": "north"}}


@dataclass
class Running:
    servers: ApiServers
    socket: httpx.Client
    tcp: httpx.Client


@contextmanager
def serving(
    engine: LocalEngine, home: Path, admission: Admission | None = None, **options: Any
) -> Iterator[Running]:
    unix = unix_listener(home / SOCKET_FILE)
    tcp = tcp_listener("127.0.0.1", 0)
    servers = ApiServers(engine, unix, tcp, tcp_requires_auth=False, admission=admission, **options)
    started = threading.Event()
    thread = threading.Thread(target=servers.serve, args=(started.set,),
                              kwargs={"handle_signals": False}, daemon=True)  # fmt: skip
    thread.start()
    assert started.wait(60)
    uds = httpx.Client(transport=httpx.HTTPTransport(uds=str(home / SOCKET_FILE)),
                       base_url="http://mlc", timeout=60)  # fmt: skip
    try:
        with uds, httpx.Client(base_url=url_of(tcp), timeout=60) as over_tcp:
            yield Running(servers, uds, over_tcp)
    finally:
        servers.stop()
        thread.join(timeout=60)
        unix.close()
        tcp.close()


@pytest.fixture
def deployed(engine: LocalEngine) -> LocalEngine:
    engine.create_model(MODEL, "classification", target="default", features=FEATURES)
    for seed in (1, 2):  # two artifacts, two files
        v = engine.register_version(MODEL, fitted(seed), algorithm="logistic_regression")
        engine.transition_version(MODEL, v.version, "validated")
    engine.deploy(MODEL, "v1", reason="first")
    return engine


def test_a_stalled_data_plane_delays_no_control_request_on_the_socket(
    deployed: LocalEngine, home: Path
) -> None:
    with serving(deployed, home) as run:
        loop = run.servers.data.loop
        assert loop is not None and loop is not run.servers.control.loop
        stalled, release = threading.Event(), threading.Event()

        def stall() -> None:  # the data plane's loop, busy for as long as the test says
            stalled.set()
            release.wait(120)

        loop.call_soon_threadsafe(stall)
        assert stalled.wait(60)
        try:
            answers: list[httpx.Response] = []
            predicting = threading.Thread(
                target=lambda: answers.append(
                    run.socket.post(f"/v1/models/{MODEL}/predict", json=ONE)
                )
            )
            predicting.start()
            # Control requests on the socket are answered while the data plane cannot move:
            # reads, a change, liveness.
            assert run.socket.get("/api/v1/models").status_code == 200
            deployed_v2 = run.socket.post(f"/api/v1/models/{MODEL}/deployments/production",
                                          json={"version": "v2", "reason": "stalled"})  # fmt: skip
            assert deployed_v2.status_code == 201, deployed_v2.text
            assert run.socket.get("/healthz").json()["ok"] is True
            assert not release.is_set() and not answers, "the data plane was stalled throughout"
        finally:
            release.set()
        predicting.join(60)
        assert answers[0].status_code == 200 and answers[0].json()["version"] == "v2"


def test_a_request_that_would_wait_past_the_bound_is_refused_at_once(
    deployed: LocalEngine, home: Path
) -> None:
    gate = Admission(slots=1, max_wait_s=1.0)
    with serving(deployed, home, gate) as run:
        for client in (run.tcp, run.socket):
            assert client.post(f"/v1/models/{MODEL}/predict", json=ONE).status_code == 200
        # Its one slot taken, by a request that held it for 5 s lately: the next would wait ~5 s.
        began = asyncio.run(gate.enter(0))
        gate.hold_s = 5.0
        try:
            for client in (run.tcp, run.socket):
                for path, body in (("predict", ONE), ("events", [])):
                    res = client.post(f"/v1/models/{MODEL}/{path}", json=body)
                    assert res.status_code == 503, res.text
                    assert res.headers["Retry-After"] == "5"
                    assert res.json()["error"] == "overloaded"
                    assert "wait 5.0 s for its turn, over the 1 s bound" in res.json()["detail"]
                # The control plane is not behind the gate.
                assert client.get(f"/api/v1/models/{MODEL}").status_code == 200
        finally:
            gate.leave(0, began)
        assert gate.shed == 4 and gate.busy == 0
        assert run.tcp.post(f"/v1/models/{MODEL}/predict", json=ONE).status_code == 200


def test_past_the_connection_cap_a_data_plane_request_is_refused_and_its_connection_closed(
    deployed: LocalEngine, home: Path
) -> None:
    with serving(deployed, home, max_connections=1) as run:
        assert run.tcp.post(f"/v1/models/{MODEL}/predict", json=ONE).status_code == 200
        # `run.tcp` keeps its connection open: a second one is over the cap of one.
        with httpx.Client(base_url=str(run.tcp.base_url), timeout=60) as second:
            res = second.post(f"/v1/models/{MODEL}/predict", json=ONE)
            assert res.status_code == 503, res.text
            assert res.headers["Retry-After"] == "1" and res.headers["Connection"] == "close"
            assert res.json()["error"] == "overloaded"
            assert "over its limit of 1" in res.json()["detail"]
            # The control plane is not capped.
            assert second.get(f"/api/v1/models/{MODEL}").status_code == 200
        assert run.tcp.post(f"/v1/models/{MODEL}/predict", json=ONE).status_code == 200


def test_the_data_plane_answers_only_once_ready(deployed: LocalEngine, home: Path) -> None:
    with serving(deployed, home) as run:
        deployed.readiness.begin()  # what `mlc serve` does before it listens
        ready = run.tcp.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "1"
        assert ready.json()["ready"] is False
        assert ready.json()["waiting_for"] == "listing the serving versions"
        refused = run.tcp.post(f"/v1/models/{MODEL}/predict", json=ONE)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
        assert refused.json()["error"] == "unavailable"
        assert refused.json()["detail"].startswith("not ready yet: ")
        assert run.socket.get("/healthz").status_code == 200  # alive all along

        deployed.readiness.warm(deployed.serving, deployed.deployments)
        doc = run.socket.get("/readyz").json()
        assert doc["ready"] is True and doc["versions"] == 1 and doc["failed"] == []
        assert run.tcp.post(f"/v1/models/{MODEL}/predict", json=ONE).status_code == 200


def test_a_broken_serving_version_is_named_and_does_not_keep_the_owner_unready(
    deployed: LocalEngine, home: Path
) -> None:
    version = deployed.registry.get_version(MODEL, "v1")
    path = deployed.artifacts.path_for(version.artifact_sha256)
    deployed.close()
    path.write_bytes(path.read_bytes()[:-20])  # truncated on disk while no owner ran
    engine = LocalEngine.open(home)  # a new owner, as after a restart
    try:
        engine.readiness.begin()
        engine.readiness.warm(engine.serving, engine.deployments)
        with serving(engine, home) as run:
            doc = run.tcp.get("/readyz").json()
            assert doc["ready"] is True and doc["versions"] == 1
            [failed] = doc["failed"]
            assert (failed["model"], failed["version"]) == (MODEL, "v1")
            assert "IntegrityError" in failed["error"], failed
            # Its traffic fails naming why; the fix goes through the control plane.
            res = run.tcp.post(f"/v1/models/{MODEL}/predict", json=ONE)
            assert res.status_code == 500 and "v1" in res.json()["detail"]
            fixed = run.socket.post(f"/api/v1/models/{MODEL}/deployments/production",
                                    json={"version": "v2", "reason": "v1 is broken"})  # fmt: skip
            assert fixed.status_code == 201, fixed.text
            answer = run.tcp.post(f"/v1/models/{MODEL}/predict", json=ONE)
            assert answer.json()["version"] == "v2"
    finally:
        engine.close()


def test_a_client_waits_for_ready_before_its_prediction(deployed: LocalEngine, home: Path) -> None:
    with serving(deployed, home) as run:
        deployed.readiness.begin()
        client = RemoteEngine(socket=home / SOCKET_FILE)
        said: list[str] = []
        client.on_wait = said.append
        answers: list[object] = []
        predicting = threading.Thread(target=lambda: answers.append(
            client.predict(MODEL, [ONE])
        ))  # fmt: skip
        predicting.start()
        for _ in range(600):  # until the server has refused it once
            if said:
                break
            threading.Event().wait(0.05)
        assert said == [
            "waiting for the store's owner to be ready (listing the serving versions) …"
        ]
        assert not answers
        deployed.readiness.warm(deployed.serving, deployed.deployments)
        predicting.join(60)
        client.close()
        [[prediction]] = answers
        assert prediction.version == "v1"  # type: ignore[attr-defined]
        assert run.socket.get("/readyz").json()["ready"] is True
