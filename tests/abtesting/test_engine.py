"""A/B tests end to end on a real store: real events and labels, real traffic revisions."""

from __future__ import annotations

import json

import pytest

from core.abtesting import ABTestConfig
from core.domain import ModelStatus, TestStatus
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from core.jsonable import to_jsonable
from tests.abtesting.conftest import MODEL, Env, log_arm


def _config(**kw: object) -> ABTestConfig:
    base: dict[str, object] = dict(
        model=MODEL, name="v2 vs v1", versions=["v1", "v2"], split={"v1": 50, "v2": 50},
        primary_metric="accuracy", mde=0.1, min_sample_per_arm=200,
    )  # fmt: skip
    base.update(kw)
    return ABTestConfig(**base)  # type: ignore[arg-type]


def _traffic(env: Env) -> dict[str, float]:
    rev = env.deployments.current(MODEL, "production")
    assert rev is not None
    return rev.traffic


def _actions(env: Env) -> list[str]:
    with env.store.read() as conn:
        rows = conn.rows("SELECT action FROM audit_log WHERE action LIKE 'abtest.%' ORDER BY seq")
    return [r["action"] for r in rows]


def test_clear_winner_is_recommended_and_promoted(env: Env) -> None:
    t = env.ab.create_ab_test(_config(guardrail_metrics=["error_rate"]), actor="alice")
    assert t.status is TestStatus.DRAFT
    env.ab.start(t.id, actor="alice")
    assert _traffic(env) == {"v1": 0.5, "v2": 0.5}
    log_arm(env, "v1", 3000, accuracy=0.70, seed=1)
    log_arm(env, "v2", 3000, accuracy=0.80, seed=2)
    res = env.ab.analyze_test_results(t.id)
    assert res.recommendation == "promote v2", res
    [primary] = [c for c in res.comparisons if c.metric == "accuracy"]
    assert primary.control_n == 3000 and primary.control_mean == pytest.approx(0.70)
    assert primary.treatment_mean == pytest.approx(0.80)
    assert primary.better is True and primary.adjusted_p is not None and primary.adjusted_p < 1e-6
    assert not res.srm["mismatch"]
    assert [g.status for g in res.guardrails] == ["ok"]
    json.dumps(to_jsonable(res))  # serialisable for --json
    rev = env.ab.promote_winner(t.id, actor="alice")
    assert rev.kind == "promote" and rev.traffic == {"v2": 1.0}
    assert _traffic(env) == {"v2": 1.0}
    assert env.registry.get_version(MODEL, "v2").status is ModelStatus.PRODUCTION
    done = env.ab.get(t.id)
    assert done.status is TestStatus.COMPLETED and done.results is not None
    assert done.results["winner"] == "v2"
    assert _actions(env) == ["abtest.create", "abtest.start", "abtest.promote"]
    with pytest.raises(IllegalTransition, match="completed"):
        env.ab.promote_winner(t.id, actor="alice")


@pytest.mark.parametrize("method", ["sequential", "bayesian"])
def test_other_methods_find_the_winner(env: Env, method: str) -> None:
    t = env.ab.create_ab_test(_config(method=method), actor="alice")
    env.ab.start(t.id)
    log_arm(env, "v1", 3000, accuracy=0.70, seed=1)
    log_arm(env, "v2", 3000, accuracy=0.80, seed=2)
    res = env.ab.analyze_test_results(t.id)
    assert res.recommendation == "promote v2"
    if method == "bayesian":
        [c] = res.comparisons
        assert c.chance_to_beat is not None and c.chance_to_beat > 0.999


def test_no_difference_keeps_running_then_stops(env: Env) -> None:
    t = env.ab.create_ab_test(_config(), actor="alice")
    env.ab.start(t.id)
    log_arm(env, "v1", 150, accuracy=0.70, seed=1, prefix="a")
    log_arm(env, "v2", 150, accuracy=0.70, seed=2, prefix="a")
    res = env.ab.analyze_test_results(t.id)
    assert res.recommendation.startswith("keep running (about ")
    needed = res.power["needed_per_arm"]["v1"]
    assert needed > 150 and res.power["progress"] == pytest.approx(150 / needed)
    with pytest.raises(IllegalTransition, match="keep running"):
        env.ab.promote_winner(t.id, actor="alice")
    log_arm(env, "v1", needed, accuracy=0.70, seed=3, prefix="b")
    log_arm(env, "v2", needed, accuracy=0.70, seed=4, prefix="b")
    res = env.ab.analyze_test_results(t.id)
    assert res.recommendation == "stop: no difference"
    with pytest.raises(IllegalTransition, match="no difference"):
        env.ab.promote_winner(t.id, actor="alice")
    assert _traffic(env) == {"v1": 0.5, "v2": 0.5}
    stopped = env.ab.stop(t.id, actor="alice", reason="no difference")
    assert stopped.status is TestStatus.STOPPED and stopped.results is not None
    assert _traffic(env) == {"v1": 1.0}  # the pre-test map is back


def test_sample_ratio_mismatch_blocks_promotion(env: Env) -> None:
    t = env.ab.create_ab_test(_config(), actor="alice")
    env.ab.start(t.id)
    log_arm(env, "v1", 6000, accuracy=0.70, seed=1)
    log_arm(env, "v2", 4000, accuracy=0.80, seed=2)
    res = env.ab.analyze_test_results(t.id)
    assert res.srm["mismatch"] and res.srm["p_value"] < 1e-10
    assert res.recommendation.startswith("blocked: sample ratio mismatch")
    with pytest.raises(IllegalTransition, match="sample ratio mismatch"):
        env.ab.promote_winner(t.id, actor="alice")
    assert _traffic(env) == {"v1": 0.5, "v2": 0.5}
    # A split change does not launder the first period: expected counts follow each period.
    env.ab.update_traffic_split(t.id, {"v1": 60, "v2": 40}, actor="alice", reason="rebalance")
    log_arm(env, "v1", 6000, accuracy=0.70, seed=3, prefix="b")
    log_arm(env, "v2", 4000, accuracy=0.80, seed=4, prefix="b")
    res = env.ab.analyze_test_results(t.id)
    assert res.srm["observed"] == {"v1": 12000, "v2": 8000}
    assert res.srm["expected"] == pytest.approx({"v1": 11000, "v2": 9000})
    assert res.srm["mismatch"]


def test_sixty_forty_against_a_sixty_forty_split_is_fine(env: Env) -> None:
    t = env.ab.create_ab_test(_config(split={"v1": 60, "v2": 40}), actor="alice")
    env.ab.start(t.id)
    assert _traffic(env) == {"v1": 0.6, "v2": 0.4}
    log_arm(env, "v1", 6000, accuracy=0.70, seed=3)
    log_arm(env, "v2", 4000, accuracy=0.80, seed=4)
    res = env.ab.analyze_test_results(t.id)
    assert not res.srm["mismatch"] and res.recommendation == "promote v2"
    assert res.power["needed_per_arm"]["v2"] < res.power["needed_per_arm"]["v1"]


def test_guardrail_breach_blocks(env: Env) -> None:
    t = env.ab.create_ab_test(_config(guardrail_metrics=["error_rate"]), actor="alice")
    env.ab.start(t.id)
    log_arm(env, "v1", 3000, accuracy=0.70, error_rate=0.01, seed=1)
    log_arm(env, "v2", 3000, accuracy=0.85, error_rate=0.10, seed=2)
    res = env.ab.analyze_test_results(t.id)
    assert [(g.metric, g.status) for g in res.guardrails] == [("error_rate", "broken")]
    assert res.recommendation.startswith("stop: guardrail broken (v2: error_rate worse")
    with pytest.raises(IllegalTransition, match="guardrail broken"):
        env.ab.promote_winner(t.id, actor="alice")
    rev = env.ab.promote_winner(t.id, actor="alice", force=True, reason="errors are a known bug")
    assert rev.traffic == {"v2": 1.0}


def test_unit_id_analysis_counts_units(env: Env) -> None:
    t = env.ab.create_ab_test(_config(unit="unit_id"), actor="alice")
    env.ab.start(t.id)
    log_arm(env, "v1", 400, accuracy=0.7, units=100, seed=1)
    log_arm(env, "v2", 400, accuracy=0.7, units=100, seed=2)
    res = env.ab.analyze_test_results(t.id)
    assert res.arms["v1"]["accuracy"].n == 100 and res.srm["observed"] == {"v1": 100, "v2": 100}


def test_state_machine(env: Env) -> None:
    t = env.ab.create_ab_test(_config(), actor="alice")
    with pytest.raises(IllegalTransition, match="draft"):
        env.ab.analyze_test_results(t.id)
    with pytest.raises(IllegalTransition, match="cannot pause"):
        env.ab.pause(t.id)
    with pytest.raises(IllegalTransition, match="only a running or paused"):
        env.ab.promote_winner(t.id)
    env.ab.start(t.id)
    with pytest.raises(IllegalTransition, match=r"cannot start .* it is running"):
        env.ab.start(t.id)
    other = env.ab.create_ab_test(
        _config(name="another", versions=["v1", "v3"], split=None), actor="bob"
    )
    with pytest.raises(Conflict, match="already has A/B test"):
        env.ab.start(other.id)
    env.ab.pause(t.id, reason="incident")
    assert env.ab.get(t.id).status is TestStatus.PAUSED
    assert _traffic(env) == {"v1": 1.0}
    env.ab.start(t.id)  # resume
    assert _traffic(env) == {"v1": 0.5, "v2": 0.5}
    env.ab.stop(t.id)
    assert _traffic(env) == {"v1": 1.0}
    for call in (lambda: env.ab.start(t.id), lambda: env.ab.pause(t.id), lambda: env.ab.stop(t.id)):
        with pytest.raises(IllegalTransition, match="stopped"):
            call()
    with pytest.raises(IllegalTransition, match=r"cannot change the split of .* stopped"):
        env.ab.update_traffic_split(t.id, {"v1": 70, "v2": 30})
    with pytest.raises(NotFound):
        env.ab.get("ab-nope")
    assert _actions(env) == ["abtest.create", "abtest.start", "abtest.create", "abtest.pause",
                             "abtest.resume", "abtest.stop"]  # fmt: skip


def test_traffic_changed_outside_the_test_interrupts_it(env: Env) -> None:
    t = env.ab.create_ab_test(_config(), actor="alice")
    env.ab.start(t.id)
    env.deployments.deploy(MODEL, "v3", "production", actor="bob", reason="hotfix")
    assert env.ab.get(t.id).status is TestStatus.INTERRUPTED
    assert "revision 3 (deploy by bob): hotfix" in env.ab.get(t.id).reason
    with pytest.raises(IllegalTransition, match="was interrupted by"):
        env.ab.update_traffic_split(t.id, {"v1": 70, "v2": 30})
    assert env.ab.get(t.id).traffic_split == {"v1": 50.0, "v2": 50.0}
    assert env.ab.stop(t.id, actor="alice").status is TestStatus.INTERRUPTED
    assert _traffic(env) == {"v3": 1.0}
    assert _actions(env)[-1] == "abtest.interrupted"


def test_split_validation(env: Env) -> None:
    t = env.ab.create_ab_test(_config(), actor="alice")
    env.ab.start(t.id)
    before = env.deployments.current(MODEL, "production")
    bad = [
        ({"v1": 60, "v2": 30}, "sum to 90"),
        ({"v1": 50}, "missing v2"),
        ({"v1": 50, "v2": 25, "v3": 25}, "not in the test: v3"),
        ({"v1": -10, "v2": 110}, ">= 0"),
        ({"v1": float("nan"), "v2": 50}, "finite"),
        ({"v1": 100, "v2": 0}, "at least two"),
        ({"v1": "50", "v2": 50}, "number"),
    ]
    for split, msg in bad:
        with pytest.raises(InvalidInput, match=msg):
            env.ab.update_traffic_split(t.id, split, actor="alice")
    assert env.deployments.current(MODEL, "production") == before
    assert env.ab.update_traffic_split(t.id, {"v1": 50, "v2": 50}) is False
    assert env.ab.update_traffic_split(t.id, {"v1": 80, "v2": 20}, actor="alice", reason="safer")
    assert _traffic(env) == {"v1": 0.8, "v2": 0.2}
    assert "abtest.split" in _actions(env)


def test_create_validation(env: Env) -> None:
    cases = [
        (dict(versions=["v1"]), InvalidInput, "at least two"),
        (dict(versions=["v1", "v9"], split=None), NotFound, "v9"),
        (dict(split={"v1": 50, "v2": 40}), InvalidInput, "sum to 90"),
        (dict(primary_metric="mae"), InvalidInput, "does not apply"),
        (dict(primary_metric="auc"), InvalidInput, "unknown metric"),
        (dict(method="peeking"), InvalidInput, "unknown method"),
        (dict(unit="user"), InvalidInput, "unknown unit"),
        (dict(alpha=1.5), InvalidInput, "alpha"),
        (dict(model="nope"), NotFound, "nope"),
    ]
    for kw, err, msg in cases:
        with pytest.raises(err, match=msg):
            env.ab.create_ab_test(_config(**kw), actor="alice")
    env.registry.transition(MODEL, "v3", "archived", actor="test")
    with pytest.raises(IllegalTransition, match="validated"):
        env.ab.create_ab_test(_config(versions=["v1", "v3"], split=None), actor="alice")
    assert env.ab.list_tests(model=MODEL) == []
