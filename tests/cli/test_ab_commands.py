"""`mlc ab …` in human and --json modes on a real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Mlc


def _model(mlc: Mlc, artifact_file: Path, versions: tuple[str, ...] = ("v1", "v2")) -> None:
    mlc(
        "models",
        "create",
        "m",
        "--task",
        "classification",
        "--features",
        "age:numeric,region:categorical",
    )
    for v in versions:
        mlc("versions", "register", "m", str(artifact_file), "--algorithm", "lr")
        mlc("versions", "transition", "m", v, "validated")
    mlc("deploy", "m", "v1")


def test_ab_lifecycle(mlc: Mlc, artifact_file: Path) -> None:
    _model(mlc, artifact_file)
    res = mlc("--json", "ab", "create", "m", "--name", "new-threshold", "--versions", "v1,v2", "--split", "50,50",
              "--guardrail", "error_rate", "--min-sample", "100")  # fmt: skip
    assert res.code == 0, res.err
    test = res.json["id"]
    assert res.json["status"] == "draft"
    assert mlc("ab", "start", test).code == 2  # changes production: --yes in scripts
    assert mlc("--json", "ab", "start", test, "--yes").json["status"] == "running"
    assert mlc("--json", "history", "m").json["revisions"][-1]["traffic"] == {"v1": 0.5, "v2": 0.5}
    doc = mlc("--json", "ab", "show", test).json
    assert doc["results"]["recommendation"].startswith("keep running")
    res = mlc("ab", "show", test)
    assert res.code == 0 and "keep running" in res.out
    res = mlc("ab", "promote", test, "--yes")
    assert res.code == 4 and "cannot promote" in res.err
    res = mlc("--json", "ab", "split", test, "v1=80", "v2=20", "--yes")
    assert res.code == 0 and res.json["traffic_split"] == {"v1": 80.0, "v2": 20.0}
    assert mlc("ab", "split", test, "v1=80", "v2=30", "--yes").code == 2
    assert mlc("--json", "ab", "split", test, "70,30", "--yes").json["traffic_split"] == {
        "v1": 70.0,
        "v2": 30.0,
    }
    assert mlc("--json", "ab", "analyze", test).json["recommendation"].startswith("keep running")
    assert mlc("--json", "ab", "stop", test, "--yes").json["status"] == "stopped"
    assert mlc("--json", "history", "m").json["revisions"][-1]["traffic"] == {"v1": 1.0}
    before = mlc("--json", "history", "m").json["revisions"]
    res = mlc("ab", "split", test, "60,40", "--yes")  # a stopped test's split cannot change
    assert res.code == 4 and "stopped" in res.err
    assert mlc("--json", "history", "m").json["revisions"] == before
    assert test in mlc("ab", "list").out
    assert mlc("ab", "show", "ab-nope").code == 3


def test_ab_bad_input(mlc: Mlc, artifact_file: Path) -> None:
    _model(mlc, artifact_file)
    assert mlc("ab", "create", "m", "--name", "t", "--versions", "v1,v2", "--split", "50").code == 2
    assert (
        mlc("ab", "create", "m", "--name", "t", "--versions", "v1,v2", "--metric", "speed").code
        == 2
    )
    assert mlc("ab", "create", "m", "--name", "t", "--versions", "v1,v9").code == 3
    assert (
        mlc("ab", "create", "m", "--name", "t", "--versions", "v1,v2", "--split", "60,60").code == 2
    )


OUTSIDE = {
    "deploy": ["deploy", "m", "v3", "--reason", "hotfix"],
    "traffic": ["traffic", "m", "v1=90", "v3=10", "--reason", "by hand"],
    "rollback": ["rollback", "m", "--reason", "v2 is slow"],
    "rollout": [
        "rollout",
        "start",
        "m",
        "v3",
        "--steps",
        "10,100",
        "--guardrail",
        "error_rate<0.5",
    ],
}


@pytest.mark.parametrize("kind", list(OUTSIDE))
def test_stop_and_pause_work_after_an_outside_change(
    mlc: Mlc, artifact_file: Path, kind: str
) -> None:
    _model(mlc, artifact_file, versions=("v1", "v2", "v3"))
    test = mlc("--json", "ab", "create", "m", "--name", "t", "--versions", "v1,v2").json["id"]
    mlc("ab", "start", test, "--yes")
    res = mlc(*OUTSIDE[kind])  # no terminal, no --yes: refused, naming the test
    assert res.code == 2 and f"A/B test {test}" in res.err and "ends it as interrupted" in res.err
    assert mlc("--json", "ab", "show", test).json["test"]["status"] == "running"
    res = mlc("--json", *OUTSIDE[kind], "--yes")
    assert res.code == 0, res.err
    assert (
        res.json["interrupted"]["id"] == test and res.json["interrupted"]["status"] == "interrupted"
    )
    revisions = mlc("--json", "history", "m").json["revisions"]
    doc = mlc("--json", "ab", "show", test).json["test"]
    assert doc["status"] == "interrupted" and doc["ended_at"] is not None
    assert f"revision {revisions[-1]['revision']} ({kind} by " in doc["reason"]
    for action in ("pause", "stop"):
        res = mlc("--json", "ab", action, test)  # nothing to confirm: nothing changes
        assert res.code == 0 and res.json["status"] == "interrupted", res.err
        res = mlc("ab", action, test)
        assert res.code == 0 and "has ended: it was interrupted by" in res.out
    res = mlc("ab", "split", test, "70,30", "--yes")
    assert res.code == 4 and "was interrupted by" in res.err
    assert mlc("--json", "history", "m").json["revisions"] == revisions
    res = mlc("ab", "show", test)
    assert res.code == 0 and "why" in res.out and "interrupted by" in res.out
