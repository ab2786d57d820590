"""`fleet_status` and `feature_distribution` through the HTTP API and `RemoteEngine`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.client import RemoteEngine
from core.abtesting import ABTestConfig
from core.clock import utcnow
from core.domain import Severity, Task, TestStatus
from core.engine import LocalEngine
from core.errors import InvalidInput, NotFound
from core.fleet import ModelHealth
from tests.api.conftest import FEATURES

Pair = tuple[LocalEngine, RemoteEngine]


@pytest.fixture
def pair(open_app: tuple[LocalEngine, TestClient], artifact_bytes: bytes) -> Iterator[Pair]:
    local, client = open_app
    for name in ("churn", "fraud"):
        local.create_model(name, "classification", target="default", features=FEATURES)
        for _ in range(2):
            v = local.register_version(name, artifact_bytes, algorithm="logistic_regression")
            local.transition_version(name, v.version, "validated")
        local.deploy(name, "v1")
    yield local, RemoteEngine(http=client)


def test_fleet_status_round_trips(pair: Pair) -> None:
    local, remote = pair
    local.predict("churn", [{"features": {"age": 30.0 + i, "region": "north"}} for i in range(20)])
    test = local.create_ab_test(ABTestConfig(model="churn", name="t", versions=["v1", "v2"]))
    local.start_ab_test(test.id)
    local.start_rollout(
        "fraud", "v2", steps=[25, 100], interval_s=3600, guardrails=["error_rate<0.5"]
    )
    local.create_alert_rule("churn", "requests", ">", 0, severity="critical")
    local.evaluate_alerts()
    rows = remote.fleet_status(120)
    # Two calls, two intervals ending at their own now: the same but for where they lie.
    assert [_at(r, rows[0]) for r in local.fleet_status(120)] == [_at(r, rows[0]) for r in rows]
    assert rows[0].end - rows[0].start == timedelta(seconds=120)
    assert rows[0].requests_per_s == rows[0].requests / rows[0].rate_s
    churn, fraud = rows
    assert churn.task is Task.CLASSIFICATION and churn.requests == 20
    assert (
        churn.ab_tests[0].status is TestStatus.RUNNING and churn.max_severity is Severity.CRITICAL
    )
    assert fraud.rollout is not None and fraud.rollout.canary_weight == 25
    with pytest.raises(InvalidInput, match="at least 1 second"):
        remote.fleet_status(0)


def _at(row: ModelHealth, other: ModelHealth) -> ModelHealth:
    return replace(row, start=other.start, end=other.end, rate_s=other.rate_s, requests_per_s=0)


def test_feature_distribution_round_trips(pair: Pair) -> None:
    local, remote = pair
    local.predict("churn", [
        {"features": {"age": 20.0 + i % 40, "region": ("north", "south")[i % 2]}} for i in range(40)
    ])  # fmt: skip
    for feature in ("age", "region"):
        got = remote.feature_distribution("churn", feature, window_s=600, bins=8)
        assert got == local.feature_distribution("churn", feature, window_s=600, bins=8)
        assert got.current_count == 40 and got.status == "no_reference" and got.reference == []
    assert len(remote.feature_distribution("churn", "age", bins=8).edges) == 9
    region = remote.feature_distribution("churn", "region", version="v1")
    assert region.categories == ["north", "south"] and region.current == [0.5, 0.5]
    with pytest.raises(NotFound, match="no feature 'height'"):
        remote.feature_distribution("churn", "height")
    with pytest.raises(NotFound):
        remote.feature_distribution("nope", "age")


def test_drift_and_distribution_count_the_same_events_up_to_end(pair: Pair) -> None:
    """A screen showing a drift verdict and a histogram reads the histogram up to the drift
    report's `end`: traffic arriving between the two reads is in neither."""
    local, remote = pair
    local.predict("churn", [{"features": {"age": 30.0 + i, "region": "north"}} for i in range(40)])
    end = utcnow()
    local.predict("churn", [{"features": {"age": 50.0, "region": "south"}} for _ in range(10)])
    for engine in (local, remote):
        drift = engine.detect_drift("churn", window_s=600, end=end)
        dist = engine.feature_distribution("churn", "age", window_s=600, end=end)
        assert drift.analysis.current_size == dist.current_count == 40
        assert engine.feature_distribution("churn", "age", window_s=600).current_count == 50
    assert remote.detect_drift("churn", window_s=600, end=end) == local.detect_drift(
        "churn", window_s=600, end=end
    )
    report = remote.detect_drift("churn", window_s=600)  # up to the owner's now
    assert report.end is not None and report.end >= end
    dist = remote.feature_distribution("churn", "age", window_s=600, end=report.end)
    assert dist.current_count == report.analysis.current_size == 50
    before = end - timedelta(hours=2)
    assert remote.feature_distribution("churn", "age", end=before).current_count == 0
