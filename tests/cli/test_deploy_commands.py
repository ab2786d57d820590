"""`mlc deploy|history|traffic|rollback|predict|rollout` in human and --json modes."""

from __future__ import annotations

import pytest

from core.engine import LocalEngine
from core.names import features_spec
from tests.cli.conftest import Mlc

MODEL = "credit-default"
FEATURES = '{"age": 41, "region": "north"}'


@pytest.fixture
def store(home, artifact_bytes: bytes) -> None:
    engine = LocalEngine.open(home)
    try:
        engine.create_model(
            MODEL, "classification", features=features_spec("age:numeric,region:categorical")
        )
        for v in ("v1", "v2", "v3"):
            engine.register_version(MODEL, artifact_bytes, algorithm="logistic_regression")
            engine.transition_version(MODEL, v, "validated")
    finally:
        engine.close()


def test_deploy_history_predict(mlc: Mlc, store: None) -> None:
    res = mlc("deploy", MODEL, "v1", "--reason", "first release")
    assert res.code == 0 and "revision 1: nothing → v1 100%" in res.out
    doc = mlc("--json", "deploy", MODEL, "v2", "--env", "staging").json
    assert (
        doc["revision"] == 1 and doc["environment"] == "staging" and doc["traffic"] == {"v2": 1.0}
    )
    res = mlc("history", MODEL)
    assert res.code == 0 and "first release" in res.out and "staging" in res.out
    doc = mlc("--json", "history", MODEL, "--env", "production").json
    assert [r["revision"] for r in doc["revisions"]] == [1]
    res = mlc("predict", MODEL, "--features", FEATURES, "--unit", "user-7")
    assert res.code == 0 and res.out.startswith("v1: ") and "P(1)=" in res.out
    doc = mlc("--json", "predict", MODEL, "--features", FEATURES, "--request-id", "r-1").json
    assert (
        doc["request_id"] == "r-1"
        and doc["version"] == "v1"
        and set(doc["probabilities"]) == {"0", "1"}
    )
    res = mlc("predict", MODEL, "--features", '{"age": "x"}')
    assert res.code == 2 and "feature 'age' must be a number" in res.err


def test_traffic_and_rollback_need_confirmation_in_scripts(mlc: Mlc, store: None) -> None:
    mlc("deploy", MODEL, "v1")
    res = mlc("traffic", MODEL, "v1=90", "v2=10")
    assert res.code == 2 and "pass --yes" in res.err
    res = mlc("traffic", MODEL, "v1=90", "v2=20", "--yes")
    assert res.code == 2 and "sum to 110" in res.err
    res = mlc("--json", "traffic", MODEL, "v1=90", "v2=10", "--yes", "--reason", "canary")
    assert res.code == 0 and res.json["traffic"] == {"v1": 0.9, "v2": 0.1}
    mlc("deploy", MODEL, "v3", "--reason", "bad one")
    res = mlc("rollback", MODEL, "--reason", "v3 is slow", "--dry-run")
    assert res.code == 0 and "dry run" in res.out and "v3 100% → v1 90% · v2 10%" in res.out
    assert mlc("rollback", MODEL, "--reason", "v3 is slow").code == 2  # no --yes, no terminal
    doc = mlc("--json", "rollback", MODEL, "--reason", "v3 is slow", "--yes").json
    assert (
        doc["revision"] == 4
        and doc["kind"] == "rollback"
        and doc["traffic"] == {"v1": 0.9, "v2": 0.1}
    )
    history = mlc("--json", "history", MODEL).json["revisions"]
    assert [r["healthy"] for r in history] == [True, True, False, True]
    res = mlc("rollback", MODEL, "--reason", "x", "--to", "v9", "--yes")
    assert res.code == 3 and "no version v9" in res.err


def test_rollout_commands(mlc: Mlc, store: None) -> None:
    mlc("deploy", MODEL, "v1")
    res = mlc("rollout", "start", MODEL, "v2", "--steps", "10,50,100", "--interval", "10m",
              "--guardrail", "error_rate<0.02", "--guardrail", "latency_p99_ms<50")  # fmt: skip
    assert res.code == 0 and "v2 at 10%" in res.out
    res = mlc("rollout", "status", MODEL)
    assert res.code == 0 and "error_rate<0.02" in res.out and "running" in res.out
    doc = mlc("--json", "rollout", "pause", MODEL, "--reason", "lunch").json
    assert doc["status"] == "paused"
    assert mlc("rollout", "pause", MODEL).code == 4
    assert mlc("--json", "rollout", "resume", MODEL).json["status"] == "running"
    assert mlc("rollout", "abort", MODEL).code == 2  # dangerous: needs --yes in scripts
    doc = mlc("--json", "rollout", "abort", MODEL, "--yes", "--reason", "not today").json
    assert doc["status"] == "aborted"
    assert mlc("--json", "history", MODEL).json["revisions"][-1]["traffic"] == {"v1": 1.0}
    res = mlc("rollout", "start", MODEL, "v2", "--steps", "10,50", "--guardrail", "error_rate<0.02")
    assert res.code == 2 and "last step must be 100" in res.err
    res = mlc("rollout", "start", MODEL, "v2", "--interval", "soon")
    assert res.code == 2 and "invalid duration" in res.err


def test_changes_over_a_rollout_name_it_and_end_it(mlc: Mlc, store: None) -> None:
    mlc("deploy", MODEL, "v1")
    ro = mlc("--json", "rollout", "start", MODEL, "v2", "--steps", "10,100").json
    assert ro["interrupted"] is None and ro["status"] == "running"
    doc = mlc("--json", "rollback", MODEL, "--reason", "canary is slow", "--dry-run").json
    assert doc["interrupts"]["kind"] == "rollout" and doc["interrupts"]["id"] == ro["id"]
    assert "canary at 10%: v1 90% · v2 10%" in doc["interrupts"]["summary"]
    res = mlc("rollback", MODEL, "--reason", "canary is slow", "--dry-run")
    assert f"rollout {ro['id']}" in res.out and "ends it as interrupted" in res.out
    res = mlc("deploy", MODEL, "v3")  # deploy asks only when it would end an owner
    assert res.code == 2 and f"rollout {ro['id']}" in res.err and "pass --yes" in res.err
    res = mlc("deploy", MODEL, "v3", "--yes")
    assert res.code == 0 and f"rollout {ro['id']}: interrupted" in res.out
    doc = mlc("--json", "rollout", "status", MODEL).json
    assert doc["status"] == "interrupted" and "revision 3 (deploy by" in doc["reason"]
    history = mlc("--json", "history", MODEL).json["revisions"]
    res = mlc("rollout", "abort", MODEL)  # ended already: nothing to confirm, nothing written
    assert res.code == 0 and "has ended: it was interrupted by" in res.out
    assert mlc("--json", "rollout", "pause", MODEL).json["status"] == "interrupted"
    res = mlc("rollout", "resume", MODEL)
    assert res.code == 4 and "nothing to resume" in res.err
    assert mlc("--json", "history", MODEL).json["revisions"] == history
    doc = mlc("--json", "deploy", MODEL, "v1").json  # no owner now: no question
    assert doc["revision"] == 4 and doc["interrupted"] is None
