"""Every registry command in human and --json modes, with the documented exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Mlc


@pytest.fixture
def model(mlc: Mlc) -> str:
    res = mlc("models", "create", "credit-default", "--task", "classification",
              "--target", "default", "--features", "age:numeric,region:categorical",
              "--description", "Will this applicant default?")  # fmt: skip
    assert res.code == 0, res.err
    return "credit-default"


@pytest.fixture
def registered(mlc: Mlc, model: str, artifact_file: Path) -> str:
    res = mlc("versions", "register", model, str(artifact_file), "--algorithm",
              "logistic_regression", "--metrics", '{"roc_auc": 0.81, "accuracy": 0.77}',
              "--params", '{"C": 1.0}', "--tag", "team=risk")  # fmt: skip
    assert res.code == 0, res.err
    return model


def test_models_create_human_and_json(mlc: Mlc) -> None:
    res = mlc("models", "create", "churn", "--task", "classification")
    assert res.code == 0 and "created model churn" in res.out
    res = mlc("--json", "models", "create", "demand", "--task", "regression", "--target", "units")
    assert res.code == 0
    assert res.json["id"] == "demand" and res.json["task"] == "regression"
    assert res.json["target"] == "units" and res.json["features"] == []


def test_models_list_and_show(mlc: Mlc, registered: str) -> None:
    res = mlc("models", "list")
    assert res.code == 0 and "credit-default" in res.out and "classification" in res.out
    doc = mlc("--json", "models", "list").json
    assert [(m["id"], m["version_count"], m["latest_version"]) for m in doc["models"]] == [
        ("credit-default", 1, "v1")
    ]
    res = mlc("models", "show", registered)
    assert res.code == 0 and "age:numeric" in res.out and "v1" in res.out
    doc = mlc("--json", "models", "show", registered).json
    assert doc["model"]["features"] == [
        {"name": "age", "type": "numeric"},
        {"name": "region", "type": "categorical"},
    ]
    assert [v["version"] for v in doc["versions"]] == ["v1"]


def test_versions_register_list_show(mlc: Mlc, registered: str, artifact_file: Path) -> None:
    res = mlc("--json", "versions", "register", registered, str(artifact_file), "--algorithm",
              "logistic_regression", "--parent", "v1")  # fmt: skip
    assert res.code == 0
    assert res.json["version"] == "v2" and res.json["parent_version"] == "v1"
    assert res.json["status"] == "registered" and len(res.json["artifact_sha256"]) == 64
    res = mlc("versions", "list", registered)
    assert res.code == 0 and "v1" in res.out and "v2" in res.out and "roc_auc=0.81" in res.out
    doc = mlc("--json", "versions", "list", registered).json
    assert [v["version"] for v in doc["versions"]] == ["v1", "v2"]
    for ref in ("v1", "1"):
        res = mlc("versions", "show", registered, ref)
        assert res.code == 0 and "credit-default:v1" in res.out and "team=risk" in res.out
    doc = mlc("--json", "versions", "show", registered, "v1").json
    assert doc["performance_metrics"] == {"roc_auc": 0.81, "accuracy": 0.77}
    assert doc["parameters"] == {"C": 1.0} and doc["tags"] == {"team": "risk"}
    assert doc["signature"]["inputs"] == ["age", "region"]


def test_versions_tag_and_alias(mlc: Mlc, registered: str) -> None:
    res = mlc("versions", "tag", registered, "v1", "owner=alice")
    assert res.code == 0 and "owner=alice" in res.out
    assert (
        mlc("--json", "versions", "tag", registered, "v1", "owner=bob").json["tags"]["owner"]
        == "bob"
    )
    res = mlc("versions", "alias", registered, "v1", "champion", "--reason", "best AUC")
    assert res.code == 0 and "credit-default@champion → v1" in res.out
    doc = mlc("--json", "versions", "show", registered, "champion").json
    assert doc["version"] == "v1" and doc["aliases"] == ["champion"]


def test_versions_transition_and_illegal_moves_exit_4(mlc: Mlc, registered: str) -> None:
    res = mlc("versions", "transition", registered, "v1", "production")
    assert res.code == 4
    assert res.err.strip() == (
        "error: cannot move credit-default:v1 from registered to production:"
        " a version must be validated before it is deployed"
    )
    res = mlc("--json", "versions", "transition", registered, "v1", "rejected", "--reason", "bias")
    assert (
        res.code == 0 and res.json["status"] == "rejected" and res.json["status_reason"] == "bias"
    )
    res = mlc("--json", "versions", "transition", registered, "v1", "staging")
    assert res.code == 4 and res.json["error"]["kind"] == "conflict"
    assert "rejected version can never be deployed" in res.json["error"]["message"]


def test_audit_list_filters_and_verify(mlc: Mlc, registered: str) -> None:
    mlc("versions", "alias", registered, "v1", "champion")
    res = mlc("audit", "list")
    assert res.code == 0
    for action in ("model.create", "version.register", "version.alias"):
        assert action in res.out
    doc = mlc("--json", "audit", "list", "--model", registered, "--action", "version").json
    assert [r["action"] for r in doc["records"]] == ["version.register", "version.alias"]
    assert all(r["actor"].startswith("local:") for r in doc["records"])
    assert mlc("--json", "audit", "list", "--since", "1h").json["records"]
    assert mlc("--json", "audit", "list", "--since", "2999-01-01").json["records"] == []
    res = mlc("audit", "verify")
    assert res.code == 0 and "3 records verified" in res.out
    doc = mlc("--json", "audit", "verify").json
    head = mlc("--json", "audit", "head").json
    assert doc == {"ok": True, "checked": 3, "first_broken_seq": None, "problem": None,
                   "truncated_after": None, "keyed_from": 1, "head": head}  # fmt: skip


def test_audit_verify_exits_1_naming_the_edited_record(
    mlc: Mlc, registered: str, home: Path
) -> None:
    import duckdb

    mlc("versions", "tag", registered, "v1", "a=b")
    con = duckdb.connect(str(home / "mlc.duckdb"))
    con.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    con.close()
    res = mlc("audit", "verify")
    assert res.code == 1 and "broken at record 2" in res.err
    doc = mlc("--json", "audit", "verify").json
    assert doc["ok"] is False and doc["first_broken_seq"] == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("models", "create", "Bad Name", "--task", "classification"),
            2,
            "invalid model name 'Bad Name'",
        ),
        (("models", "create", "churn", "--task", "clustering"), 2, "unknown task 'clustering'"),
        (
            ("models", "create", "churn", "--task", "regression", "--features", "age"),
            2,
            "expected name:type",
        ),
        (
            ("models", "create", "churn", "--task", "regression", "--features", "age:blob"),
            2,
            "unknown feature type",
        ),
        (("models", "create", "credit-default", "--task", "regression"), 4, "already exists"),
        (("models", "show", "nope"), 3, "model 'nope' not found"),
        (("versions", "list", "nope"), 3, "model 'nope' not found"),
        (("versions", "show", "credit-default", "v9"), 3, "no version v9"),
        (("versions", "show", "credit-default", "champion"), 3, "no version or alias 'champion'"),
        (("versions", "tag", "credit-default", "v1", "novalue"), 2, "expected KEY=VALUE"),
        (
            ("versions", "transition", "credit-default", "v1", "shipped"),
            2,
            "unknown status 'shipped'",
        ),
        (
            ("versions", "register", "credit-default", "/no/such.skops", "--algorithm", "x"),
            2,
            "does not exist",
        ),
        (
            (
                "versions",
                "register",
                "credit-default",
                "{artifact}",
                "--algorithm",
                "x",
                "--metrics",
                "{bad",
            ),
            2,
            "--metrics is not valid JSON",
        ),
        (
            (
                "versions",
                "register",
                "credit-default",
                "{artifact}",
                "--algorithm",
                "x",
                "--metrics",
                "[1]",
            ),
            2,
            "must be a JSON object",
        ),
        (
            ("versions", "register", "credit-default", "{notskops}", "--algorithm", "x"),
            2,
            "not a skops file",
        ),
        (
            ("versions", "register", "nope", "{artifact}", "--algorithm", "x"),
            3,
            "model 'nope' not found",
        ),
        (("audit", "list", "--since", "yesterday"), 2, "invalid time 'yesterday'"),
    ],
)
def test_bad_input_gets_one_line_and_the_right_exit_code(
    mlc: Mlc,
    registered: str,
    artifact_file: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    notskops = tmp_path / "model.pkl"
    notskops.write_bytes(b"\x80\x04\x95not a zip")
    subst = {"{artifact}": str(artifact_file), "{notskops}": str(notskops)}
    args = tuple(subst.get(a, a) for a in args)
    before = mlc("--json", "audit", "list").json["records"]
    res = mlc(*args)
    assert res.code == code, (res.out, res.err)
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert mlc("--json", "audit", "list").json["records"] == before  # nothing was written
    res = mlc("--json", *args)
    assert res.code == code and message in res.json["error"]["message"]


def test_usage_errors_exit_2(mlc: Mlc) -> None:
    assert mlc("models", "create").code == 2
    assert mlc("models", "frobnicate").code == 2
    assert mlc("versions", "register", "x").code == 2
