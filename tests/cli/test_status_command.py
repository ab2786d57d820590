"""`mlc status`: the fleet table, and its --json document."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.clock import utcnow
from core.engine import LocalEngine
from core.names import features_spec
from tests.cli.conftest import Mlc
from tests.conftest import add_versions

MODEL = "credit-default"


@pytest.fixture
def store(home: Path, artifact_bytes: bytes) -> None:
    """credit-default serving v1 (a few requests 90 s ago, 60 more 30 s ago, one failed, ten
    labelled); idle, never served; stopped, whose traffic stopped 65 s ago; started, whose
    traffic began 20 s ago. Times in the past, through the real ingest path."""
    engine = LocalEngine.open(home)
    now = utcnow()

    def ago(seconds: float) -> str:
        return (now - timedelta(seconds=seconds)).isoformat()

    try:
        for name in (MODEL, "idle", "stopped", "started"):
            engine.create_model(
                name, "classification", features=features_spec("age:numeric,region:categorical")
            )
            if name != MODEL:
                add_versions(engine, name, 1)
        for v in ("v1", "v2"):
            engine.register_version(MODEL, artifact_bytes, algorithm="logistic_regression")
            engine.transition_version(MODEL, v, "validated")
        engine.deploy(MODEL, "v1")
        engine.log_events(MODEL, [
            {"request_id": f"old{i}", "version": "v1", "prediction": 0, "latency_ms": 900.0,
             "error": "Boom", "ts": ago(90)}
            for i in range(10)
        ] + [
            {"request_id": f"r{i}", "version": "v1", "prediction": i % 2, "latency_ms": 5.0,
             "error": "Boom" if i == 0 else None, "ts": ago(30)}
            for i in range(60)
        ])  # fmt: skip
        engine.record_actuals(MODEL, [{"request_id": f"r{i}", "actual": 1} for i in range(1, 11)])
        for name, ages in (("stopped", range(180, 65, -1)), ("started", range(20, 0, -1))):
            engine.log_events(name, [
                {"request_id": f"{name}{a}", "version": "v1", "prediction": 1, "latency_ms": 5.0,
                 "ts": ago(a)}
                for a in ages
            ])  # fmt: skip
    finally:
        engine.close()


def test_status_json(mlc: Mlc, store: None) -> None:
    res = mlc("--json", "status")
    assert res.code == 0, res.err
    doc = res.json
    assert doc["window_s"] == 60 and doc["drift_window_s"] == 300
    start, end = (datetime.fromisoformat(doc[k]) for k in ("start", "end"))
    assert end - start == timedelta(seconds=60)
    credit, idle, started, stopped = doc["models"]
    assert [credit["name"], idle["name"]] == [MODEL, "idle"]
    for row in doc["models"]:  # every row over the same, stated interval
        assert (row["window_s"], row["start"], row["end"]) == (60, doc["start"], doc["end"])
    assert credit["production"] == {"v1": 1.0} and credit["production_revision"] == 1
    # Only the 60 requests of the last minute: not the failed, slow ones 90 s ago.
    assert credit["requests"] == 60 and credit["rate_s"] == 60
    assert credit["requests_per_s"] == 1.0
    assert credit["error_rate"] == pytest.approx(1 / 60) and credit["latency_p99_ms"] == 5.0
    assert credit["labelled"] == 10 and credit["accuracy"] == pytest.approx(0.5)
    assert credit["drift_status"] == "no_reference" and credit["rollout"] is None
    assert credit["drift_window_s"] == 300
    assert idle["production"] == {} and idle["requests"] == 0 and idle["error_rate"] is None
    # Traffic that stopped 65 s ago reads 0; traffic that began 20 s ago, its rate since.
    assert stopped["requests"] == 0 and stopped["requests_per_s"] == 0.0
    assert started["requests"] == 20 and 20 <= started["rate_s"] < 60
    assert started["requests_per_s"] == pytest.approx(20 / started["rate_s"])
    wider = mlc("--json", "status", "--window", "10m").json
    assert wider["window_s"] == 600 and wider["drift_window_s"] == 600
    assert wider["models"][0]["requests"] == 70 and wider["models"][3]["requests"] == 115


def test_status_table(mlc: Mlc, store: None) -> None:
    res = mlc("status")
    assert res.code == 0, res.err
    lines = [row.strip() for row in res.out.splitlines()]
    assert re.fullmatch(
        r"production, last 60 s \(\d\d:\d\d:\d\d-\d\d:\d\d:\d\d UTC\) · drift: last 5 min",
        lines[0],
    )
    line = next(row for row in lines if row.startswith(MODEL))
    assert "v1 100% (rev 1)" in line and " 1.0 " in line and "1.7%" in line
    assert "acc 0.500" in line
    assert next(row for row in lines if row.startswith("stopped")).split()[3] == "0.0"
    assert "not deployed" in next(row for row in lines if row.startswith("idle"))
    note = next(row for row in lines if row.startswith("started:"))
    assert re.fullmatch(
        r"started: traffic began inside the window: req/s over the last [234]\d s", note
    )


def test_status_of_an_empty_store_and_a_bad_window(mlc: Mlc) -> None:
    res = mlc("status")
    assert res.code == 0 and "no models yet" in res.out
    assert mlc("--json", "status").json == {
        "window_s": 60.0,
        "start": None,
        "end": None,
        "drift_window_s": None,
        "models": [],
    }
    res = mlc("status", "--window", "soon")
    assert res.code == 2 and "invalid duration" in res.err
