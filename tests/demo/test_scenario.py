"""`build_demo` on a real store: trained and gated versions, deployments, a running A/B test,
alert rules, all audited; traffic from the demo's sample files fits the trained models, and
the drift episode moves the statistic the drift rule watches across its threshold."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.demo import CREDIT, DELIVERY, RULES, DemoScenario, TrafficSimulator, build_demo
from core.domain import TestStatus
from core.engine import LocalEngine
from core.errors import Conflict


@dataclass
class Built:
    engine: LocalEngine
    scenario: DemoScenario
    progress: list[str]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    engine = LocalEngine.open(tmp_path_factory.mktemp("demo") / "store", actor="test:demo")
    progress: list[str] = []
    try:
        yield Built(engine, build_demo(engine, progress.append), progress)
    finally:
        engine.close()


def _statistic(engine: LocalEngine, feature: str) -> float:
    report = engine.detect_drift(CREDIT, window_s=60)
    assert report.analysis.status == "ok", report.analysis.reason
    return next(f.statistic for f in report.analysis.features if f.feature == feature)


@pytest.mark.slow
def test_the_demo_fleet(built: Built) -> None:
    engine, scenario = built.engine, built.scenario
    assert scenario.models == [CREDIT, DELIVERY] and not scenario.resumed
    assert scenario.versions == {CREDIT: ["v1", "v2", "v3"], DELIVERY: ["v1"]}
    credit = {v.version: v for v in engine.list_versions(CREDIT)}
    assert credit["v3"].status == "rejected"
    assert {credit["v1"].status, credit["v2"].status} <= {"validated", "production"}
    # The A/B test has a real difference to find.
    metrics = [credit[v].performance_metrics for v in ("v1", "v2")]
    assert metrics[1]["accuracy"] > metrics[0]["accuracy"] + 0.02

    production = engine.get_deployment(CREDIT)
    assert production is not None and production.traffic == {"v1": 0.5, "v2": 0.5}
    delivery = engine.get_deployment(DELIVERY)
    assert delivery is not None and delivery.traffic == {"v1": 1.0}
    assert scenario.ab_test_id is not None
    test = engine.get_ab_test(scenario.ab_test_id)
    assert test.status is TestStatus.RUNNING and test.model_versions == ["v1", "v2"]

    rules = {r.id: r for m in scenario.models for r in engine.list_alert_rules(model=m)}
    assert sorted(rules) == sorted(scenario.rule_ids) and len(rules) == len(RULES)
    assert scenario.drift_rule_id is not None
    assert rules[scenario.drift_rule_id].metric_name == "drift.credit_utilization"

    actions = {r.action for r in engine.list_audit(model=CREDIT)}
    expected = {"model.create", "deployment.deploy", "abtest.create", "abtest.start",
                "alert.rule.create"}  # fmt: skip
    assert expected <= actions, actions
    assert all(r.actor == "test:demo" for r in engine.list_audit(model=CREDIT))
    assert any("training credit-default v2" in p for p in built.progress), built.progress
    assert built.progress[-1].startswith("demo ready")


@pytest.mark.slow
def test_a_second_build_resumes_without_creating_anything(built: Built) -> None:
    before = len(built.engine.list_audit())
    again = build_demo(built.engine)
    assert again.resumed
    assert again.ab_test_id == built.scenario.ab_test_id
    assert again.versions == built.scenario.versions
    assert sorted(again.rule_ids) == sorted(built.scenario.rule_ids)
    assert again.drift_rule_id == built.scenario.drift_rule_id
    assert len(built.engine.list_audit()) == before


@pytest.mark.slow
def test_demo_traffic_fits_the_models_and_its_drift_crosses_the_rule(built: Built) -> None:
    engine, scenario = built.engine, built.scenario
    sim = TrafficSimulator(
        engine, scenario.sources, rate=400, tick_s=0.1, drift_after_s=None,
        label_delay_s=(0.1, 0.3), label_flush_s=0.2, seed=7,
    )  # fmt: skip
    rule = next(r for r in RULES if r.metric == "drift.credit_utilization")
    sim.start()
    try:
        deadline = time.monotonic() + 60
        while sim.stats().by_version.get(CREDIT, {}).get("v1", 0) < 400:
            assert time.monotonic() < deadline and sim.running
            time.sleep(0.1)
        healthy = _statistic(engine, "credit_utilization")
        sim.start_drift()
        mark = sim.stats().by_version[CREDIT]["v1"]
        while sim.stats().by_version[CREDIT]["v1"] < 3 * mark:
            assert time.monotonic() < deadline and sim.running
            time.sleep(0.1)
        drifted = _statistic(engine, "credit_utilization")
    finally:
        sim.stop()
    stats = sim.stats()
    assert stats.errors == 0, stats.last_error
    assert set(stats.by_version) == {CREDIT, DELIVERY}
    assert set(stats.by_version[CREDIT]) == {"v1", "v2"}
    assert healthy < rule.threshold / 2 < rule.threshold < drifted


def test_a_store_with_an_undeployed_credit_model_is_not_a_demo(engine: LocalEngine) -> None:
    engine.create_model(CREDIT, "classification", target="default")
    with pytest.raises(Conflict, match="fresh --store"):
        build_demo(engine)


def test_sample_data_is_where_the_demo_looks() -> None:
    from app.demo.scenario import DATA_DIR, traffic_sources

    for source in traffic_sources():
        assert source.normal.is_file()
        assert source.drifted is None or source.drifted.is_file()
    for config in ("credit/demo_v1.toml", "credit/demo_v2.toml", "credit/demo_v3.toml",
                   "delivery/demo.toml"):  # fmt: skip
        assert (Path(DATA_DIR) / config).is_file()
