"""`fleet_status`: one row per model with traffic, health, drift, alerts, tests and rollouts."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from core.abtesting import ABTestConfig
from core.domain import RolloutStatus, Severity, Task, TestStatus
from core.engine import LocalEngine
from core.errors import InvalidInput, NotFound
from core.fleet import MIN_RATE_S, ModelHealth
from core.fromjson import load
from core.jsonable import to_jsonable
from tests.fleet.conftest import MODEL, features


def test_no_models_no_rows(engine: LocalEngine) -> None:
    assert engine.fleet_status() == []


def test_a_model_never_deployed(engine: LocalEngine, credit_model: str) -> None:
    [row] = engine.fleet_status(60)
    assert row.name == credit_model and row.task is Task.CLASSIFICATION and row.window_s == 60
    assert row.end - row.start == timedelta(seconds=60) and row.rate_s == 60
    assert row.production == {} and row.production_revision is None and row.staging == {}
    assert row.requests == 0 and row.requests_per_s == 0.0
    assert row.error_rate is None and row.latency_p99_ms is None and row.accuracy is None
    assert row.drift_share is None and row.drift_status == "no_traffic"
    assert row.firing_alerts == 0 and row.max_severity is None
    assert row.ab_tests == [] and row.rollout is None


def _log(engine: LocalEngine, prefix: str, n: int, **extra: object) -> None:
    engine.log_events(MODEL, [
        {"request_id": f"{prefix}{i}", "version": "v1", "prediction": i % 2,
         "latency_ms": float(i + 1), "error": "Boom" if i >= n - 2 else None,
         "features": features(i), **extra}
        for i in range(n)
    ])  # fmt: skip


def test_health_of_production_traffic(served: LocalEngine) -> None:
    _log(served, "p", 10)  # latencies 1 … 10 ms, the last two failed
    _log(served, "s", 5, environment="staging")  # not production: not counted
    old = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    _log(served, "old", 7, ts=old)  # before the window
    served.deploy(MODEL, "v2", environment="staging")
    [row] = served.fleet_status(300)
    assert row.production == {"v1": 1.0} and row.production_revision == 1
    assert row.staging == {"v2": 1.0} and row.staging_revision == 1
    # Its traffic began just now (the old events are long before): a rate since then.
    assert row.requests == 10 and MIN_RATE_S <= row.rate_s < 300
    assert row.requests_per_s == pytest.approx(10 / row.rate_s)
    assert row.error_rate == pytest.approx(0.2)
    assert row.latency_p50_ms == pytest.approx(5.5)
    assert row.latency_p99_ms == pytest.approx(1 + 0.99 * 9)  # linear, as quantile_cont
    assert row.labelled == 0 and row.accuracy is None and row.mae is None
    # Labels arrive: p0..p3 (predictions 0, 1, 0, 1), three right; p9 failed, so not counted.
    served.record_actuals(MODEL, [{"request_id": f"p{i}", "actual": a}
                                  for i, a in ((0, 0), (1, 1), (2, 0), (3, 0), (9, 1))])  # fmt: skip
    [row] = served.fleet_status(300)
    assert row.labelled == 4 and row.accuracy == pytest.approx(0.75)
    # The drift of the serving version: registered without a training profile here.
    assert row.drift_version == "v1" and row.drift_status == "no_reference"
    assert row.drift_share is None and row.drift_at is not None


def test_predictions_through_the_gateway_count(served: LocalEngine) -> None:
    served.predict(MODEL, [{"features": features(i)} for i in range(30)])
    [row] = served.fleet_status(60)
    assert row.requests == 30 and row.error_rate == 0.0 and row.latency_p99_ms is not None


def test_firing_alerts_and_their_highest_severity(served: LocalEngine) -> None:
    _log(served, "a", 10)
    served.create_alert_rule(MODEL, "requests", ">", 0, severity="critical")
    served.create_alert_rule(MODEL, "error_rate", ">", 0.1, severity="warning")
    served.create_alert_rule(MODEL, "error_rate", ">", 0.5, severity="critical")  # not firing
    served.evaluate_alerts()
    [row] = served.fleet_status()
    assert row.firing_alerts == 2 and row.max_severity is Severity.CRITICAL


def test_a_running_ab_test_and_a_rollout(served: LocalEngine, artifact_bytes: bytes) -> None:
    test = served.create_ab_test(ABTestConfig(model=MODEL, name="v2 vs v1", versions=["v1", "v2"],
                                              split={"v1": 70, "v2": 30}))  # fmt: skip
    draft_only = served.fleet_status()
    assert draft_only[0].ab_tests == []  # a draft is not running yet
    served.start_ab_test(test.id)
    served.create_model("other", "classification")
    for v in ("v1", "v2"):
        served.register_version("other", artifact_bytes, algorithm="logistic_regression")
        served.transition_version("other", v, "validated")
    served.deploy("other", "v1")
    served.start_rollout("other", "v2", steps=[10, 50, 100], interval_s=3600,
                         guardrails=["error_rate<0.5"])  # fmt: skip
    rows = {r.name: r for r in served.fleet_status()}
    assert list(rows) == [MODEL, "other"]
    [ab] = rows[MODEL].ab_tests
    assert (ab.id, ab.name, ab.status) == (test.id, "v2 vs v1", TestStatus.RUNNING)
    assert ab.arms == ["v1", "v2"] and ab.split == {"v1": 70.0, "v2": 30.0}
    assert rows[MODEL].production == pytest.approx({"v1": 0.7, "v2": 0.3})
    assert rows[MODEL].rollout is None
    rollout = rows["other"].rollout
    assert rollout is not None and rollout.status is RolloutStatus.RUNNING
    assert rollout.canary_version == "v2" and rollout.steps == [10, 50, 100]
    assert rollout.step == 1 and rollout.canary_weight == 10
    assert rows["other"].production == pytest.approx({"v1": 0.9, "v2": 0.1})
    served.pause_rollout("other")
    assert served.fleet_status()[1].rollout.status is RolloutStatus.PAUSED  # type: ignore[union-attr]
    served.abort_rollout("other", reason="enough")
    served.stop_ab_test(test.id)
    rows = {r.name: r for r in served.fleet_status()}
    assert rows["other"].rollout is None and rows[MODEL].ab_tests == []


def test_rows_round_trip_through_json(served: LocalEngine) -> None:
    _log(served, "j", 10)
    served.create_alert_rule(MODEL, "requests", ">", 0, severity="info")
    served.evaluate_alerts()
    rows = served.fleet_status()
    again = [load(ModelHealth, r) for r in json.loads(json.dumps(to_jsonable(rows)))]
    assert again == rows and again[0].max_severity is Severity.INFO


def test_the_window_is_checked(served: LocalEngine) -> None:
    for bad in (0, 0.5, -5, float("nan"), 31 * 86400):
        with pytest.raises(InvalidInput):
            served.fleet_status(bad)


def test_drift_is_cached_and_refreshed_in_the_background(served: LocalEngine) -> None:
    detector = served.drift
    window = timedelta(minutes=5)
    first = detector.cached_drift(MODEL, "v1", window=window, max_age_s=60)
    assert detector.cached_drift(MODEL, "v1", window=window, max_age_s=60) is first
    assert first.version == "v1" and first.analysis is not None
    time.sleep(0.25)
    stale = detector.cached_drift(MODEL, "v1", window=window, max_age_s=0.2)
    assert stale is first  # served as it is while a thread refreshes it
    deadline = time.monotonic() + 10
    while detector._refreshing and time.monotonic() < deadline:
        time.sleep(0.01)
    fresh = detector.cached_drift(MODEL, "v1", window=window, max_age_s=0.2)
    assert fresh.computed_at > first.computed_at
    time.sleep(0.7)  # older than three times the age: recomputed before answering
    assert detector.cached_drift(MODEL, "v1", window=window, max_age_s=0.2).computed_at > (
        fresh.computed_at
    )
    with pytest.raises(NotFound):
        detector.cached_drift("nope", window=window)


def test_fleet_drift_comes_from_the_cache(served: LocalEngine) -> None:
    first = served.fleet_status()[0].drift_at
    assert served.fleet_status()[0].drift_at == first
    served.deploy(MODEL, "v2")  # another serving version: its own analysis
    row = served.fleet_status()[0]
    assert row.drift_version == "v2" and row.drift_at != first


def test_a_failing_drift_analysis_does_not_blank_the_fleet(
    served: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _log(served, "e", 10)

    def broken(*args: object, **kwargs: object) -> None:
        raise InvalidInput("the stored profile is unreadable")

    monkeypatch.setattr(served.drift, "cached_drift", broken)
    [row] = served.fleet_status()
    assert row.requests == 10 and row.drift_status == "error" and row.drift_share is None
    assert row.drift_version == "v1"
