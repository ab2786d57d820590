"""Rule creation: what is accepted, normalised, refused and audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import audit
from core.alerting import AlertManager
from core.domain import AlertRule, ComparisonOperator, Severity
from core.errors import InvalidInput, NotFound
from storage.store import Store
from tests.alerting.conftest import MODEL, OTHER


def test_create_list_get_and_audit(manager: AlertManager, store: Store, tmp_path: Path) -> None:
    rule = manager.create_rule(
        MODEL, "drift.age", ">=", 0.1, window_s=3600, for_s=600, severity="critical",
        channels=["console", "log:alerts.jsonl", "slack:https://hooks.example/T1"],
        repeat_s=0, actor="alice",
    )  # fmt: skip
    assert rule.id == "r1" and rule.comparison is ComparisonOperator.GE
    assert rule.severity is Severity.CRITICAL and rule.window_s == 3600 and rule.for_s == 600
    assert rule.notification_channels[0] == "console"
    assert rule.notification_channels[1].startswith("log:/")  # made absolute
    assert rule.created_by == "alice" and rule.created_at is not None
    other = manager.create_rule(OTHER, "psi.region", ">", 0.2, actor="alice")
    assert manager.get_rule(rule.id) == rule
    assert [r.id for r in manager.list_rules()] == [rule.id, other.id]
    assert [r.id for r in manager.list_rules(OTHER)] == [other.id]
    seed = rule  # one rule type: the manager returns the seed's AlertRule itself
    assert isinstance(seed, AlertRule) and seed.metric_name == "drift.age" and seed.for_s == 600
    with store.read() as conn:
        (rec, _) = audit.query(conn, action="alert.rule.create")
    assert rec.target == rule.id and rec.model_id == MODEL and rec.after["threshold"] == 0.1


@pytest.mark.parametrize(
    "metric",
    ["error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "requests",
     "prediction_mean", "accuracy", "precision", "recall", "f1", "roc_auc", "mae", "rmse",
     "drift_share", "concept_drift", "drift.income", "psi.region", "event.rollout.aborted"],
)  # fmt: skip
def test_every_documented_metric_is_accepted(manager: AlertManager, metric: str) -> None:
    assert manager.create_rule(MODEL, metric, ">", 1, actor="a").metric_name == metric


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "cpu"}, "unknown metric 'cpu'"),
        ({"metric": "drift."}, "invalid feature"),
        ({"metric": "psi.bad name"}, "invalid feature"),
        ({"metric": "event."}, "invalid event kind"),
        ({"comparison": "=>"}, "unknown comparison '=>'"),
        ({"comparison": "gt"}, "unknown comparison"),
        ({"threshold": float("nan")}, "finite"),
        ({"threshold": float("inf")}, "finite"),
        ({"threshold": "abc"}, "must be a number"),
        ({"threshold": True}, "must be a number"),
        ({"channels": ["pager"]}, "unknown channel 'pager'"),
        ({"channels": ["email:x@y"]}, "unknown channel"),
        ({"channels": ["webhook:"]}, "needs a URL"),
        ({"channels": ["webhook:ftp://host/x"]}, "http(s) URL"),
        ({"channels": ["slack:not a url"]}, "http(s) URL"),
        ({"channels": ["log:"]}, "needs a path"),
        ({"channels": []}, "at least one channel"),
        ({"window_s": 0}, "window"),
        ({"for_s": -1}, "for-duration"),
        ({"for_s": 1.5}, "whole number"),
        ({"repeat_s": float("nan")}, "repeat interval"),
        ({"severity": "page"}, "unknown severity 'page'"),
    ],
)
def test_bad_rules_are_refused_with_one_line(
    manager: AlertManager, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"metric": "error_rate", "comparison": ">", "threshold": 0.1}
    args.update(kwargs)
    with pytest.raises(InvalidInput) as err:
        manager.create_rule(
            MODEL, args.pop("metric"), args.pop("comparison"), args.pop("threshold"),  # type: ignore[arg-type]
            actor="a", **args,  # type: ignore[arg-type]
        )  # fmt: skip
    assert message in str(err.value) and "\n" not in str(err.value)
    assert manager.list_rules() == []


def test_log_channel_that_is_a_directory_is_refused(manager: AlertManager, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="directory"):
        manager.create_rule(MODEL, "error_rate", ">", 0, channels=[f"log:{tmp_path}"], actor="a")


def test_unknown_model_and_rule(manager: AlertManager) -> None:
    with pytest.raises(NotFound, match="model 'nope' not found"):
        manager.create_rule("nope", "error_rate", ">", 0.1, actor="a")
    with pytest.raises(NotFound, match="alert rule 'r9' not found"):
        manager.get_rule("r9")
    with pytest.raises(NotFound):
        manager.set_active("r9", False, actor="a")
