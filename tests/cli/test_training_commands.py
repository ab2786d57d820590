"""`mlc train`, `mlc validate` and `mlc jobs …` in human and --json modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Mlc
from tests.training.conftest import WriteConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def trained(mlc: Mlc, write_config: WriteConfig) -> str:
    assert mlc("models", "create", "credit-default", "--task", "classification").code == 0
    res = mlc("--json", "train", "credit-default", "--config", str(write_config()), "--wait")
    assert res.code == 0, res.err
    doc = res.json
    assert doc["job"]["status"] == "succeeded" and doc["job"]["outcome"] == "validated"
    assert doc["version"]["version"] == "v1" and doc["version"]["status"] == "validated"
    return doc["job"]["id"]


def test_train_human_output_shows_logs_gates_and_the_version(
    mlc: Mlc, write_config: WriteConfig
) -> None:
    mlc("models", "create", "credit-default", "--task", "classification")
    res = mlc("train", "credit-default", "--config", str(write_config()))
    assert res.code == 0, res.err
    assert "no mlc server owns this store" in res.err  # ran in the foreground, and said why
    assert "search done: best roc_auc" in res.out
    assert "credit-default:v1 validated" in res.out
    assert "min:roc_auc" in res.out and "pass" in res.out


def test_a_rejected_version_exits_4_with_reasons(
    mlc: Mlc, trained: str, write_config: WriteConfig
) -> None:
    assert mlc("versions", "transition", "credit-default", "v1", "production").code == 0
    weak = write_config(
        algorithm="logistic_regression", params="{ C = 1.0 }", space="C = { choices = [1.0] }"
    )
    weak.write_text(
        weak.read_text().replace('exclude = ["application_id"]', 'features = ["region"]')
    )
    res = mlc("--json", "train", "credit-default", "--config", str(weak), "--wait")
    assert res.code == 4
    assert res.json["job"]["outcome"] == "rejected"
    assert res.json["version"]["status"] == "rejected"
    doc = mlc("--json", "versions", "show", "credit-default", "v2").json
    assert "below champion v1" in doc["status_reason"]
    gates = {g["name"]: g for g in doc["validation"]["gates"]}
    assert gates["champion"]["passed"] is False
    res = mlc("versions", "show", "credit-default", "v2")
    assert "FAIL" in res.out and "below champion v1" in res.out


def test_jobs_list_show_and_logs(mlc: Mlc, trained: str) -> None:
    res = mlc("jobs", "list")
    assert res.code == 0 and trained in res.out and "succeeded" in res.out
    doc = mlc("--json", "jobs", "list", "--model", "credit-default").json
    assert [j["id"] for j in doc["jobs"]] == [trained]
    res = mlc("jobs", "show", trained)
    assert res.code == 0 and "trials" in res.out and "learning_rate" in res.out
    doc = mlc("--json", "jobs", "show", trained).json
    assert doc["job"]["result_version"] == "v1" and len(doc["trials"]) == 2
    assert all(
        {"number", "params", "score", "fit_time_s", "status"} <= set(t) for t in doc["trials"]
    )
    res = mlc("jobs", "logs", trained)
    assert res.code == 0 and "registered v1 as validated" in res.out
    doc = mlc("--json", "jobs", "logs", trained).json
    assert doc["logs"][0]["message"].startswith("worker started")


def test_jobs_cancel_of_a_finished_job_exits_4_and_unknown_exits_3(mlc: Mlc, trained: str) -> None:
    res = mlc("jobs", "cancel", trained)
    assert res.code == 4 and "already succeeded" in res.err
    assert mlc("jobs", "show", "job-nope").code == 3
    assert mlc("--json", "jobs", "cancel", "job-nope").json["error"]["kind"] == "not_found"


def test_validate_on_new_data(mlc: Mlc, trained: str) -> None:
    data = ROOT / "sample_data" / "credit" / "credit_current.parquet"
    res = mlc("validate", "credit-default", "v1", "--data", str(data))
    assert res.code == 0 and "roc_auc" in res.out
    doc = mlc("--json", "validate", "credit-default", "v1", "--data", str(data)).json
    assert doc["passed"] is True and doc["metrics"]["roc_auc"] > 0.7
    res = mlc("validate", "credit-default", "v1", "--data", "/no/such.parquet")
    assert res.code == 2 and "does not exist" in res.err


@pytest.mark.parametrize(
    ("config_text", "message"),
    [
        ("[data]\npath = 'x.parquet'\ntarget = 'y'\n", "missing section [algorithm]"),
        (
            "[algorithm]\nname = 'random_forest'\n[data]\npath = 'nope.parquet'\ntarget = 'y'\n",
            "does not exist",
        ),
        ("[algorithm\n", "not valid TOML"),
        (
            "[algorithm]\nname = 'ridge'\nparam = {}\n[data]\npath='x'\ntarget='y'\n",
            "unknown key algorithm.param",
        ),
    ],
)
def test_bad_configs_exit_2_before_any_job(
    mlc: Mlc, tmp_path: Path, config_text: str, message: str
) -> None:
    mlc("models", "create", "credit-default", "--task", "classification")
    config = tmp_path / "bad.toml"
    config.write_text(config_text)
    res = mlc("train", "credit-default", "--config", str(config))
    assert res.code == 2 and message in res.err
    assert mlc("--json", "jobs", "list").json["jobs"] == []
    assert mlc("train", "credit-default", "--config", str(tmp_path / "missing.toml")).code == 2
