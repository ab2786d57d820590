"""One validation for every path: what the HTTP API refuses, with the message the CLI gives for
the same input — feature names, lengths (request and unit ids, tags, reasons), versions that
exist, times near now, actuals that fit the task — and exact counts of new and duplicate
events. Each gap found on the API path has its test here, through a real app over a real
store; nothing refused is stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli.main import app as cli
from core.domain import Role
from tests.api.conftest import World

OP = Role.OPERATOR
JSON = {"Content-Type": "application/json"}


def _post(w: World, path: str, body: Any, role: Role = OP) -> Any:
    return w.client.post(path, json=body, headers=w.headers(role))


def _refused(res: Any, *words: str, status: int = 400) -> str:
    assert res.status_code == status, res.text
    detail = res.json()["detail"]
    for word in words:
        assert word in detail, detail
    return detail


def _cli(home: Path, *args: str) -> dict[str, Any]:
    res = CliRunner().invoke(cli, ["--store", str(home), "--json", *args])
    return json.loads(res.stdout)


def _stored(w: World, model: str, table: str = "prediction_events") -> int:
    with w.engine.store.read() as conn:
        return int(conn.scalar(f"SELECT count(*) FROM {table} WHERE model_id = ?", [model]))


def _event(i: int | str, **fields: Any) -> dict[str, Any]:
    return {"request_id": f"e-{i}", "version": "v1", "prediction": 1, **fields}


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("features", "spec", "words"),
    [
        ([{"name": "bad name", "type": "numeric"}], "bad name:numeric", ["invalid feature name"]),
        ([{"name": "1st", "type": "numeric"}], "1st:numeric", ["invalid feature name"]),
        ([{"name": "a-b", "type": "numeric"}], "a-b:numeric", ["invalid feature name"]),
        ([{"name": "age", "type": "numeric"}, {"name": "age", "type": "categorical"}],
         "age:numeric,age:categorical", ["listed twice"]),
        ([{"name": "age", "type": "vector"}], "age:vector", ["unknown feature type"]),
    ],
)  # fmt: skip
def test_feature_names_the_cli_refuses_the_api_refuses_alike(
    world: World, tmp_path: Path, features: list[dict[str, str]], spec: str, words: list[str]
) -> None:
    name = world.unique()
    res = _post(world, "/api/v1/models", {"name": name, "task": "regression", "features": features})
    detail = _refused(res, *words)
    found = _cli(tmp_path / "cli", "models", "create", name, "--task", "regression",
                 "--features", spec)  # fmt: skip
    assert found["error"]["message"] == detail
    assert world.client.get(f"/api/v1/models/{name}", headers=world.headers(OP)).status_code == 404


# --- lengths ----------------------------------------------------------------------------


def test_a_unit_id_longer_than_200_is_refused_on_predict_and_events(world: World) -> None:
    name = world.deployed(1)
    request = {"request_id": "u-1", "unit_id": "u" * 201, "features": {"age": 40, "region": "x"}}
    _refused(_post(world, f"/v1/models/{name}/predict", request), "unit_id", "at most 200")
    huge = [_event(1, unit_id="u" * 1_000_000)]
    _refused(_post(world, f"/v1/models/{name}/events", huge), "item 0: unit_id", "1,000,000")
    for field in ("arm", "unit_id"):
        _refused(_post(world, f"/v1/models/{name}/events", [_event(2, **{field: "a" * 201})]),
                 f"item 0: {field}")  # fmt: skip
    long_error = [_event(3, error="E" * 1001)]
    _refused(_post(world, f"/v1/models/{name}/events", long_error), "item 0: error", "1,000")
    assert _stored(world, name) == 0
    ok = {**request, "unit_id": "u" * 200}
    assert _post(world, f"/v1/models/{name}/predict", ok).status_code == 200


def test_a_request_id_longer_than_200_is_refused_everywhere(world: World) -> None:
    name = world.deployed(1)
    rid = "r" * 201
    _refused(_post(world, f"/v1/models/{name}/predict",
                   {"request_id": rid, "features": {"age": 1, "region": "x"}}), "request_id")  # fmt: skip
    _refused(_post(world, f"/v1/models/{name}/events", [{"request_id": rid}]), "item 0: request_id")
    _refused(_post(world, f"/v1/models/{name}/actuals", [{"request_id": rid, "actual": 1}]),
             "item 0: request_id")  # fmt: skip
    assert _stored(world, name) == 0 and _stored(world, name, "actuals") == 0


def test_tags_are_checked_on_register_and_on_tag(world: World, tmp_path: Path) -> None:
    name = world.model(1)
    v = f"/api/v1/models/{name}/versions"
    res = _post(world, v, {"artifact_base64": _b64(world), "algorithm": "lr",
                           "tags": {"team": "x" * 1025}})  # fmt: skip
    detail = _refused(res, "tag value for 'team'", "at most 1,024")
    res = _post(world, v, {"artifact_base64": _b64(world), "algorithm": "lr",
                           "tags": {"bad key": "x"}})  # fmt: skip
    _refused(res, "invalid tag key 'bad key'")
    assert len(world.engine.list_versions(name)) == 1
    put = world.client.put(f"{v}/v1/tags/team", json={"value": "x" * 1025},
                           headers=world.headers(OP))  # fmt: skip
    assert _refused(put, "tag value") == detail
    # The CLI's KEY=VALUE with an '=' in the key once checked the wrong pair.
    put = world.client.put(f"{v}/v1/tags/a=b", json={"value": "c"}, headers=world.headers(OP))
    _refused(put, "invalid tag key 'a=b'")
    home = tmp_path / "cli"
    _cli(home, "models", "create", name, "--task", "classification", "--target", "default",
         "--features", "age:numeric,region:categorical")  # fmt: skip
    artifact = tmp_path / "m.skops"
    artifact.write_bytes(world.artifact)
    found = _cli(home, "versions", "register", name, str(artifact), "--algorithm", "lr",
                 "--tag", "team=" + "x" * 1025)  # fmt: skip
    assert found["error"]["message"] == detail


def test_reasons_and_comments_longer_than_1000_are_refused_on_every_route(
    world: World, tmp_path: Path
) -> None:
    name = world.deployed(2)
    long = "r" * 1001
    deploys = f"/api/v1/models/{name}/deployments/production"
    detail = _refused(_post(world, deploys, {"version": "v2", "reason": long}),
                      "reason is 1,001 characters long; at most 1,000")  # fmt: skip
    _refused(_post(world, f"{deploys}/rollback", {"reason": long, "dry_run": True}), "reason")
    _refused(_post(world, f"/api/v1/models/{name}/versions/v1/transition",
                   {"status": "archived", "reason": long}), "reason")  # fmt: skip
    silence = {"model": name, "duration_s": 60, "comment": long}
    _refused(_post(world, "/api/v1/alerts/silences", silence), "comment is 1,001 characters")
    assert world.engine.get_deployment(name).traffic == {"v1": 1.0}
    assert world.engine.get_version(name, "v1").status.value != "archived"
    assert _post(world, deploys, {"version": "v2", "reason": "r" * 1000}).status_code == 201
    found = _cli(tmp_path / "cli", "versions", "transition", "nope", "v1", "archived",
                 "--reason", long)  # fmt: skip
    assert found["error"]["message"] == detail  # checked before anything is looked up


# --- versions, times, environments and actuals that fit -----------------------------------


def test_events_naming_a_version_that_does_not_exist_are_refused(world: World) -> None:
    name = world.model(1)
    for batch in ([_event(1, version="v2")], [_event(1), _event(2, version="v7")]):
        _refused(_post(world, f"/v1/models/{name}/events", batch),
                 "version v", "does not exist", f"model {name!r} has v1 to v1")  # fmt: skip
    assert _stored(world, name) == 0
    world.engine.register_version(name, world.artifact, algorithm="logistic_regression")
    res = _post(world, f"/v1/models/{name}/events", [_event(1, version="v2")])
    assert res.status_code == 200 and res.json()["new"] == 1, res.text  # learnt since


def test_event_times_must_be_near_now(world: World) -> None:
    name = world.model(1)
    now = datetime.now(UTC)
    for i, ts in enumerate(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                            (now + timedelta(hours=1)).isoformat(), 0, 1e20]):  # fmt: skip
        res = _post(world, f"/v1/models/{name}/events", [_event(i), _event(f"{i}b", ts=ts)])
        detail = _refused(res, "item 1: ts")
        assert ("out of range" in detail) or ("ISO-8601" in detail), detail
    res = _post(world, f"/v1/models/{name}/actuals", [{"request_id": "a", "actual": 1,
                                                      "ts": "9999-01-01T00:00:00"}])  # fmt: skip
    _refused(res, "item 0: ts", "MLC_EVENT_MAX_AHEAD")
    assert _stored(world, name) == 0 and _stored(world, name, "actuals") == 0
    fine = [_event("old", ts=(now - timedelta(days=400)).isoformat()),
            _event("soon", ts=(now + timedelta(minutes=2)).isoformat())]  # fmt: skip
    assert _post(world, f"/v1/models/{name}/events", fine).json()["new"] == 2


def test_unknown_environments_are_refused(world: World) -> None:
    name = world.model(1)
    res = _post(world, f"/v1/models/{name}/events", [_event(1, environment="prod")])
    _refused(res, "item 0: unknown environment 'prod'")
    res = _post(world, f"/v1/models/{name}/events", [_event(2, environment="staging")])
    assert res.status_code == 200


def test_actuals_and_predictions_must_be_classes_of_the_model(world: World) -> None:
    name = world.model(1)  # a 0/1 classifier
    res = _post(world, f"/v1/models/{name}/actuals", [{"request_id": "a", "actual": "banana"}])
    _refused(res, "item 0: actual 'banana' is not a class", "expected one of 0, 1")
    res = _post(world, f"/v1/models/{name}/actuals", [{"request_id": "b", "actual": 2}])
    _refused(res, "actual '2'")
    res = _post(world, f"/v1/models/{name}/events", [_event(1), _event(2, prediction="banana")])
    _refused(res, "item 1: prediction 'banana' is not a class")
    assert _stored(world, name) == 0 and _stored(world, name, "actuals") == 0
    fine = [{"request_id": f"f{i}", "actual": a} for i, a in enumerate([0, 1, True, "1", 1.0])]
    assert _post(world, f"/v1/models/{name}/actuals", fine).json() == {
        "received": 5, "new": 5, "duplicates": 0
    }  # fmt: skip


def test_a_regression_actual_must_be_a_number(world: World) -> None:
    name = world.unique()
    world.engine.create_model(name, "regression")
    res = _post(world, f"/v1/models/{name}/actuals", [{"request_id": "a", "actual": "banana"}])
    _refused(res, "item 0: actual must be a finite number")


# --- new and duplicate counts -------------------------------------------------------------


def test_events_answer_exact_new_and_duplicate_counts(world: World) -> None:
    name = world.model(1)
    url = f"/v1/models/{name}/events"
    twice = [_event(1), _event(1, prediction=0)]
    assert _post(world, url, twice).json() == {"received": 2, "new": 1, "duplicates": 1}
    assert _post(world, url, twice).json() == {"received": 2, "new": 0, "duplicates": 2}
    batch = [_event(i) for i in range(1, 301)]  # one stored, 299 new
    assert _post(world, url, batch).json() == {"received": 300, "new": 299, "duplicates": 1}
    assert _stored(world, name) == 300
    raw = b'[{"request_id": "e-7"}, {"request_id": "e-7001"}, {"request_id": "e-7001"}]'
    res = world.client.post(url, content=raw, headers={**world.headers(OP), **JSON})
    assert res.json() == {"received": 3, "new": 1, "duplicates": 2}
    assert _stored(world, name) == 301


def test_actuals_answer_exact_new_and_duplicate_counts(world: World) -> None:
    name = world.model(1)
    url = f"/v1/models/{name}/actuals"
    labels = [{"request_id": "a", "actual": 1}, {"request_id": "a", "actual": 0},
              {"request_id": "b", "actual": 0}]  # fmt: skip
    assert _post(world, url, labels).json() == {"received": 3, "new": 2, "duplicates": 1}
    assert _post(world, url, labels[:1]).json() == {"received": 1, "new": 0, "duplicates": 1}
    assert _stored(world, name, "actuals") == 2


def test_a_predicted_request_id_logged_again_is_a_duplicate(world: World) -> None:
    name = world.deployed(1)
    request = {"request_id": "p-1", "features": {"age": 41.0, "region": "south"}}
    assert _post(world, f"/v1/models/{name}/predict", request, Role.VIEWER).status_code == 200
    res = _post(world, f"/v1/models/{name}/events", [{"request_id": "p-1", "version": "v1"}])
    assert res.json() == {"received": 1, "new": 0, "duplicates": 1}
    assert _stored(world, name) == 1


def test_the_cli_reports_new_and_duplicate_counts(tmp_path: Path, artifact_bytes: bytes) -> None:
    home = tmp_path / "cli"
    _cli(home, "models", "create", "churn", "--task", "classification", "--target", "default",
         "--features", "age:numeric,region:categorical")  # fmt: skip
    artifact = tmp_path / "m.skops"
    artifact.write_bytes(artifact_bytes)
    _cli(home, "versions", "register", "churn", str(artifact), "--algorithm", "lr")
    rows = [{"request_id": f"r{i % 3}", "version": "v1", "prediction": 1, "age": 30.0,
             "region": "north"} for i in range(5)]  # fmt: skip
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(r) for r in rows))
    first = _cli(home, "ingest", "churn", str(events))
    assert first == {"model": "churn", "received": 5, "new": 3, "duplicates": 2}
    again = _cli(home, "ingest", "churn", str(events))
    assert again == {"model": "churn", "received": 5, "new": 0, "duplicates": 5}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"request_id": "x", "version": "v3", "prediction": 1}))
    found = _cli(home, "ingest", "churn", str(bad))
    assert "version v3 does not exist" in found["error"]["message"]


def _b64(w: World) -> str:
    import base64

    return base64.b64encode(w.artifact).decode()
