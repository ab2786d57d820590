"""`from_jsonable` inverts `to_jsonable` for every dataclass the engine protocol returns."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from core import domain as d
from core.fromjson import from_jsonable, load
from core.jsonable import to_jsonable
from core.training.pipeline import JobDetails
from core.training.validator import GateResult, ValidationResults

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

SAMPLES: list[Any] = [
    d.Feature("age", d.FeatureType.NUMERIC),
    d.Model("m", d.Task.CLASSIFICATION, "y", [d.Feature("r", d.FeatureType.CATEGORICAL)], "x",
            T0, "local:a", 2, "v2"),
    d.ModelVersion("m:v1", "m", "v1", 1, "lr", {"C": 1.0, "grid": [1, 2], "n": None},
                   "h", {"auc": 0.8}, d.ModelStatus.STAGING, T0, "a", "f" * 64, 10,
                   {"inputs": ["age"], "classes": [0, 1]}, "job-1", "v0", "desc", "ok", T0,
                   {"team": "risk"}, ["champion"], {"seed": 1}, {"passed": True}),
    d.TrainingJob("job-1", "m", d.TrainingStatus.RUNNING, T0, {"a": {"b": 1}}, 0.5, "fit",
                  T0, None, None, None, None, 3, 10, 0.81, "local:a", "/x.toml"),
    d.DeploymentRevision("m", d.Environment.PRODUCTION, 3, {"v1": 0.9, "v2": 0.1}, "a", "r",
                         T0, "rollout", False),
    d.Rollout("ro-1", "m", d.Environment.STAGING, "v2", {"v1": 1.0}, [5.0, 50.0, 100.0], 1,
              600.0, ["error_rate<0.02"], 1, 100, d.RolloutStatus.PAUSED, T0, T0, "a", "why",
              2, [{"step": 1, "verdict": "pass"}]),
    d.ApiToken("tok_1", "ci", d.Role.OPERATOR, T0, "local:a", None, T0),
    d.Prediction("r-1", "v1", "yes", 1.25, {"no": 0.25, "yes": 0.75}),
    d.Prediction("r-2", "v1", 3.5, 0.5),
    d.ABTest("t", "n", "m", ["v1", "v2"], {"v1": 0.5, "v2": 0.5}, ["auc"], d.TestStatus.RUNNING,
             T0, {"winner": None}),
    d.PerformanceMetric("p", "m", "auc", 0.9, T0, {"window": "5m"}),
    d.AlertRule("a", "m", "error_rate", 0.02, d.ComparisonOperator.GE, ["console"], False, 60,
                30, d.Severity.CRITICAL),
    d.AuditRecord(1, T0, "a", "model.create", "m", None, None, {"x": [1]}, "", "0" * 64, "f"),
    d.AuditVerification(False, 3, 2, "hash mismatch"),
    GateResult("min roc_auc", False, "0.7 < 0.75", "roc_auc", 0.7, 0.75),
    ValidationResults({"auc": 0.7}, [GateResult("g", True, "ok")], "v1", {"auc": 0.69}),
    JobDetails(d.TrainingJob("j", "m", d.TrainingStatus.QUEUED, T0, {}), [{"number": 1}], []),
]  # fmt: skip


@pytest.mark.parametrize("value", SAMPLES, ids=lambda v: type(v).__name__)
def test_round_trip(value: Any) -> None:
    back = from_jsonable(type(value), to_jsonable(value))
    assert back == value
    for f in dataclasses.fields(value):
        assert type(getattr(back, f.name)) is type(getattr(value, f.name)), f.name


def test_unknown_keys_are_ignored_and_missing_ones_take_defaults() -> None:
    data = {"request_id": "r", "version": "v1", "prediction": 1, "latency_ms": 2,
            "from_a_newer_server": True}  # fmt: skip
    p = load(d.Prediction, data)
    assert p == d.Prediction("r", "v1", 1, 2.0, None) and isinstance(p.latency_ms, float)


def test_generics_unions_and_tuples() -> None:
    assert from_jsonable(tuple[int, str], [1, "a"]) == (1, "a")
    assert from_jsonable(tuple[float, ...], [1, 2.5]) == (1.0, 2.5)
    assert from_jsonable(dict[str, list[d.Role]], {"x": ["admin"]}) == {"x": [d.Role.ADMIN]}
    assert from_jsonable(datetime | None, None) is None
    assert from_jsonable(int | str, "3") == "3"
    assert from_jsonable(dict[int, str], {"1": "a"}) == {1: "a"}


@pytest.mark.parametrize(
    ("tp", "data"),
    [(int, "1"), (int, True), (str, 3), (d.Role, "root"), (datetime, 5), (list[int], {"a": 1}),
     (d.Feature, ["age", "numeric"]), (int | None, "x")],
)  # fmt: skip
def test_a_mismatch_is_an_error_not_a_guess(tp: Any, data: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        from_jsonable(tp, data)
