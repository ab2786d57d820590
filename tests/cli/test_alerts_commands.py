"""`mlc alerts …` in human and --json modes, on a real store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Mlc, with_versions


def test_rule_fires_is_acked_silenced_and_listed(mlc: Mlc, tmp_path: Path, home: Path) -> None:
    mlc("models", "create", "m", "--task", "classification")
    with_versions(home, "m", 1)
    res = mlc("--json", "alerts", "rules", "add", "m", "error_rate", ">", "0.1", "--window", "10m",
              "--channel", "console", "--channel", f"log:{tmp_path / 'alerts.jsonl'}")  # fmt: skip
    assert res.code == 0, res.err
    rule = res.json["id"]
    assert mlc("alerts", "rules", "list").out.count(rule) == 1
    events = tmp_path / "events.jsonl"
    rows = [
        {
            "request_id": f"r{i}",
            "version": "v1",
            "prediction": 1,
            "error": "boom" if i % 3 == 0 else None,
        }
        for i in range(30)
    ]
    events.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert mlc("ingest", "m", str(events)).code == 0
    res = mlc("--json", "alerts", "evaluate")
    assert res.code == 0 and [t["to_state"] for t in res.json["transitions"]] == ["firing"]
    doc = mlc("--json", "alerts", "list", "--state", "firing").json
    [alert] = doc["alerts"]
    assert alert["rule_id"] == rule and alert["value"] > 0.1
    res = mlc("alerts", "ack", alert["id"], "--comment", "looking into it")
    assert res.code == 0 and "acknowledged" in res.out
    assert mlc("alerts", "ack", alert["id"], "--comment", "again").code == 4
    res = mlc(
        "--json", "alerts", "silence", "--model", "m", "--for", "2h", "--comment", "deploy window"
    )
    assert res.code == 0
    silence = res.json["id"]
    assert silence in mlc("alerts", "silences", "--active").out
    assert mlc("alerts", "unsilence", silence).code == 0
    history = mlc("--json", "alerts", "history", "--alert", alert["id"]).json["transitions"]
    assert [t["kind"] for t in history] == ["state", "ack"]
    shown = mlc("--json", "alerts", "show", alert["id"]).json
    assert shown["alert"]["id"] == alert["id"] and shown["alert"]["acked_by"] is not None
    assert shown["transitions"] == history
    res = mlc("alerts", "show", alert["id"])
    assert res.code == 0 and "looking into it" in res.out and "firing" in res.out
    res = mlc("alerts", "show", "no-such-alert")
    assert res.code == 3 and "no-such-alert" in res.err
    assert mlc("--json", "alerts", "rules", "disable", rule).json["is_active"] is False
    assert mlc("alerts", "rules", "remove", rule).code == 0
    actions = {
        r["action"] for r in mlc("--json", "audit", "list", "--action", "alert").json["records"]
    }
    assert {"alert.rule.create", "alert.ack", "alert.silence", "alert.rule.disable"} <= actions


def test_bad_rules_and_silences_are_refused(mlc: Mlc) -> None:
    mlc("models", "create", "m", "--task", "classification")
    res = mlc("alerts", "rules", "add", "m", "speed", ">", "1")
    assert res.code == 2 and "metric" in res.err
    res = mlc("alerts", "rules", "add", "m", "error_rate", "=>", "1")
    assert res.code == 2
    res = mlc("alerts", "rules", "add", "nope", "error_rate", ">", "1")
    assert res.code == 3
    res = mlc("alerts", "silence", "--for", "1h")
    assert res.code == 2 and "give --rule ID or --model NAME" in res.err
    assert mlc("alerts", "ack", "a999", "--comment", "x").code == 3


def test_retrain_policy_commands(mlc: Mlc, tmp_path: Path) -> None:
    mlc("models", "create", "credit-default", "--task", "classification")
    rule = mlc(
        "--json", "alerts", "rules", "add", "credit-default", "drift_share", ">=", "0.5"
    ).json["id"]
    config = Path(__file__).resolve().parents[2] / "sample_data" / "credit" / "credit.toml"
    res = mlc("--json", "retrain-policies", "add", "credit-default", "--rule", rule, "--config", str(config),
              "--cooldown", "2h", "--canary", "--guardrail", "error_rate<0.02")  # fmt: skip
    assert res.code == 0, res.err
    assert res.json["cooldown_s"] == 7200 and res.json["canary"]["guardrails"] == [
        "error_rate<0.02"
    ]
    policy = res.json["id"]
    assert policy in mlc("retrain-policies", "list").out
    assert (
        mlc(
            "retrain-policies",
            "add",
            "credit-default",
            "--rule",
            rule,
            "--config",
            str(tmp_path / "no.toml"),
        ).code
        == 2
    )
    assert (
        mlc(
            "retrain-policies", "add", "credit-default", "--rule", "r999", "--config", str(config)
        ).code
        == 3
    )
    assert mlc("retrain-policies", "remove", policy).code == 0
    assert mlc("--json", "retrain-policies", "list").json["policies"] == []
