"""Error bodies and statuses, and the data plane's limits, over the real app."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import skops.io as sio
from fastapi.testclient import TestClient

from app.api import create_app
from core.engine import LocalEngine
from core.errors import Overloaded
from tests.api.conftest import FEATURES
from tests.untrusted_estimator import SneakyEstimator

App = tuple[LocalEngine, TestClient]
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def deployed(open_app: App, artifact_bytes: bytes) -> str:
    engine, _ = open_app
    engine.create_model("churn", "classification", target="default", features=FEATURES)
    engine.register_version("churn", artifact_bytes, algorithm="lr")
    engine.transition_version("churn", "v1", "validated")
    engine.deploy("churn", "v1", reason="first")
    return "churn"


def _error(res: Any, status: int, kind: str) -> str:
    assert res.status_code == status, res.text
    body = res.json()
    assert set(body) == {"error", "detail"} and body["error"] == kind
    return str(body["detail"])


def test_statuses_follow_the_error_kind(open_app: App, deployed: str) -> None:
    _, c = open_app
    assert "'nope' not found" in _error(c.get("/api/v1/models/nope"), 404, "not_found")
    dup = c.post("/api/v1/models", json={"name": "churn", "task": "regression"})
    assert "already exists" in _error(dup, 409, "conflict")
    bad = c.post("/api/v1/models", json={"name": "Churn!", "task": "regression"})
    assert "invalid model name" in _error(bad, 400, "invalid")
    illegal = c.post("/api/v1/models/churn/versions/v1/transition", json={"status": "registered"})
    _error(illegal, 409, "conflict")
    missing = c.post("/api/v1/models", json={"task": "regression"})
    assert "name" in _error(missing, 422, "invalid")
    _error(c.get("/api/v1/no-such-route"), 404, "not_found")


def test_an_untrusted_upload_is_422_and_bad_base64_400(open_app: App, deployed: str) -> None:
    _, c = open_app
    sneaky = base64.b64encode(sio.dumps(SneakyEstimator())).decode()
    res = c.post("/api/v1/models/churn/versions",
                 json={"artifact_base64": sneaky, "algorithm": "x"})  # fmt: skip
    assert "SneakyEstimator" in _error(res, 422, "integrity")
    res = c.post("/api/v1/models/churn/versions",
                 json={"artifact_base64": "@@@", "algorithm": "x"})  # fmt: skip
    assert "base64" in _error(res, 400, "invalid")


def test_predict_answers_one_for_one_and_a_list_for_a_list(open_app: App, deployed: str) -> None:
    _, c = open_app
    one = c.post("/v1/models/churn/predict",
                 json={"request_id": "a", "features": {"age": 30, "region": "north"}})  # fmt: skip
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["request_id"] == "a" and body["version"] == "v1"
    assert set(body) >= {"prediction", "latency_ms"} and set(body["probabilities"]) == {"0", "1"}
    many = c.post("/v1/models/churn/predict",
                  json=[{"features": {"age": a, "region": "east"}} for a in (20, 60)])  # fmt: skip
    assert many.status_code == 200 and len(many.json()) == 2


def test_body_and_batch_limits_answer_413(home: Any, artifact_bytes: bytes) -> None:
    engine = LocalEngine.open(home)
    try:
        engine.create_model("churn", "classification", target="default", features=FEATURES)
        c = TestClient(
            create_app(engine, require_auth=False, max_body_bytes=2000, max_batch=3),
            base_url="http://localhost",
        )
        big = [{"request_id": f"r{i}", "actual": 1} for i in range(200)]
        assert "limit" in _error(c.post("/v1/models/churn/actuals", json=big), 413, "too_large")
        four = [{"request_id": f"r{i}", "actual": 1} for i in range(4)]
        res = c.post("/v1/models/churn/events", json=four)
        assert "batch of 4" in _error(res, 413, "too_large")
        chunked = c.post(
            "/v1/models/churn/events", content=iter([b"[" + b" " * 2500 + b"]"]), headers=JSON
        )
        _error(chunked, 413, "too_large")
        assert engine.record_actuals("churn", four[:1]).new == 1, "the store still works"
    finally:
        engine.close()


def test_malformed_data_plane_bodies_are_400(open_app: App, deployed: str) -> None:
    _, c = open_app
    assert "not valid JSON" in _error(
        c.post("/v1/models/churn/events", content=b"{nope", headers=JSON), 400, "invalid"
    )
    assert "JSON list" in _error(c.post("/v1/models/churn/events", json={"a": 1}), 400, "invalid")
    assert "item 1" in _error(c.post("/v1/models/churn/actuals", json=[{}, 3]), 400, "invalid")
    _error(c.post("/v1/models/churn/events", content=b"", headers=JSON), 400, "invalid")


def test_overloaded_is_503_with_retry_after(
    open_app: App, deployed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, c = open_app

    def behind(*_: Any, **__: Any) -> int:
        raise Overloaded("ingest is behind; retry shortly", retry_after_s=0.2)

    monkeypatch.setattr(engine, "record_actuals", behind)
    res = c.post("/v1/models/churn/actuals", json=[{"request_id": "a", "actual": 1}])
    _error(res, 503, "overloaded")
    assert res.headers["Retry-After"] == "1"


def test_openapi_documents_the_api(open_app: App) -> None:
    _, c = open_app
    assert c.get("/docs").status_code == 200
    spec = c.get("/openapi.json").json()
    assert "/v1/models/{name}/predict" in spec["paths"]
    assert "ModelVersion" in spec["components"]["schemas"]
