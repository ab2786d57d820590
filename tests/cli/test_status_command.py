"""`mlc status`: the fleet table, and its --json document."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.engine import LocalEngine
from core.names import features_spec
from tests.cli.conftest import Mlc

MODEL = "credit-default"


@pytest.fixture
def store(home: Path, artifact_bytes: bytes) -> None:
    engine = LocalEngine.open(home)
    try:
        for name in (MODEL, "idle"):
            engine.create_model(
                name, "classification", features=features_spec("age:numeric,region:categorical")
            )
        for v in ("v1", "v2"):
            engine.register_version(MODEL, artifact_bytes, algorithm="logistic_regression")
            engine.transition_version(MODEL, v, "validated")
        engine.deploy(MODEL, "v1")
        engine.log_events(MODEL, [
            {"request_id": f"r{i}", "version": "v1", "prediction": i % 2, "latency_ms": 5.0,
             "error": "Boom" if i == 0 else None}
            for i in range(60)
        ])  # fmt: skip
        engine.record_actuals(MODEL, [{"request_id": f"r{i}", "actual": 1} for i in range(1, 11)])
    finally:
        engine.close()


def test_status_json(mlc: Mlc, store: None) -> None:
    res = mlc("--json", "status", "--window", "10m")
    assert res.code == 0, res.err
    doc = res.json
    assert doc["window_s"] == 600
    credit, idle = doc["models"]
    assert credit["name"] == MODEL and idle["name"] == "idle"
    assert credit["production"] == {"v1": 1.0} and credit["production_revision"] == 1
    assert credit["requests"] == 60 and credit["requests_per_s"] == pytest.approx(0.1)
    assert credit["error_rate"] == pytest.approx(1 / 60)
    assert credit["labelled"] == 10 and credit["accuracy"] == pytest.approx(0.5)
    assert credit["drift_status"] == "no_reference" and credit["rollout"] is None
    assert idle["production"] == {} and idle["requests"] == 0 and idle["error_rate"] is None


def test_status_table(mlc: Mlc, store: None) -> None:
    res = mlc("status")
    assert res.code == 0, res.err
    assert "fleet over the last 5m" in res.out
    rows = [row.strip() for row in res.out.splitlines()]
    line = next(row for row in rows if row.startswith(MODEL))
    assert "v1 100% (rev 1)" in line and "0.2" in line and "1.7%" in line and "acc 0.500" in line
    assert "not deployed" in next(row for row in rows if row.startswith("idle"))


def test_status_of_an_empty_store_and_a_bad_window(mlc: Mlc) -> None:
    res = mlc("status")
    assert res.code == 0 and "no models yet" in res.out
    assert mlc("--json", "status").json == {"window_s": 300.0, "models": []}
    res = mlc("status", "--window", "soon")
    assert res.code == 2 and "invalid duration" in res.err
