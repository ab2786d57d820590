"""Progressive rollouts end to end: real events, real analysis, automatic abort and rollback."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from core.clock import utcnow
from core.domain import ModelStatus, RolloutStatus
from core.engine import LocalEngine
from core.errors import Conflict, IllegalTransition, InvalidInput
from storage.repos import rollouts as rollouts_repo
from tests.rollout.conftest import MODEL, features

GUARDRAILS = ["error_rate<0.05", "latency_p99_ms<1000"]


STEP_S = 0.3


def _later(seconds: float = 61) -> object:
    return utcnow() + timedelta(seconds=seconds)


def _tick_when_due(engine: LocalEngine) -> list:
    """Real time, short steps: events are stamped now and the window is [step start, now)."""
    time.sleep(STEP_S + 0.05)
    return engine.rollouts.tick()


def _traffic(engine: LocalEngine) -> dict[str, float]:
    rev = engine.get_deployment(MODEL)
    assert rev is not None
    return rev.traffic


def test_a_healthy_canary_reaches_100_percent_and_is_promoted(served: LocalEngine) -> None:
    ro = served.start_rollout(
        MODEL, "v2", steps=[25, 50, 100], interval_s=STEP_S, guardrails=GUARDRAILS, min_samples=20
    )
    assert ro.status is RolloutStatus.RUNNING and ro.canary_weight == 25
    assert _traffic(served) == pytest.approx({"v1": 0.75, "v2": 0.25})
    for step in range(3):
        served.predict(
            MODEL, [{"unit_id": f"u{step}-{i}", "features": features(i)} for i in range(300)]
        )
        [ro] = _tick_when_due(served)
    assert ro.status is RolloutStatus.COMPLETED
    assert _traffic(served) == {"v2": 1.0}
    assert served.get_version(MODEL, "v2").status is ModelStatus.PRODUCTION
    assert served.get_version(MODEL, "v1").status is ModelStatus.VALIDATED
    kinds = [(r.kind, r.traffic) for r in served.deployment_history(MODEL)]
    assert kinds[1:] == [
        ("rollout", {"v1": 0.75, "v2": 0.25}),
        ("rollout", {"v1": 0.5, "v2": 0.5}),
        ("rollout", {"v2": 1.0}),
    ]
    assert [a["decision"] for a in ro.analyses] == ["promote_step"] * 3
    actions = [r.action for r in served.list_audit(action="rollout")]
    assert actions == ["rollout.start", "rollout.step", "rollout.step", "rollout.complete"]


def test_a_canary_with_a_worse_error_rate_aborts_and_restores_stable(served: LocalEngine) -> None:
    served.start_rollout(
        MODEL, "v2", steps=[10, 50, 100], interval_s=60, guardrails=GUARDRAILS, min_samples=50
    )
    injected = [
        {"request_id": f"bad-{i}", "version": "v2", "prediction": 1, "latency_ms": 2.0,
         "error": "TimeoutError" if i % 4 == 0 else None}
        for i in range(200)
    ]  # fmt: skip
    healthy = [
        {"request_id": f"ok-{i}", "version": "v1", "prediction": 0, "latency_ms": 2.0}
        for i in range(800)
    ]
    served.log_events(MODEL, injected + healthy)
    [ro] = served.rollouts.tick(_later())
    assert ro.status is RolloutStatus.ABORTED
    assert "error_rate 0.25 breaks < 0.05" in ro.reason
    assert _traffic(served) == {"v1": 1.0}
    history = served.deployment_history(MODEL)
    assert history[-1].kind == "abort" and "error_rate" in history[-1].reason
    assert history[-2].healthy is False  # the canary's map is never a rollback target
    assert served.get_version(MODEL, "v2").status is ModelStatus.VALIDATED
    assert [r.action for r in served.list_audit(action="rollout")][-1] == "rollout.abort"
    with served.store.read() as conn:
        [event] = rollouts_repo.system_events(conn, MODEL)
    assert event["kind"] == "rollout.aborted" and event["severity"] == "critical"


def test_too_few_samples_pauses_for_a_human(served: LocalEngine) -> None:
    served.start_rollout(
        MODEL, "v2", steps=[50, 100], interval_s=60, guardrails=GUARDRAILS, min_samples=100
    )
    served.log_events(
        MODEL, [{"request_id": f"e{i}", "version": "v2", "prediction": 1} for i in range(10)]
    )
    [ro] = served.rollouts.tick(_later())
    assert ro.status is RolloutStatus.PAUSED
    assert "inconclusive" in ro.reason and "only 10 requests, need 100" in ro.reason
    assert _traffic(served) == pytest.approx({"v1": 0.5, "v2": 0.5})  # weights unchanged
    assert served.rollouts.tick(_later(120)) == []  # a paused rollout is left alone
    ro = served.resume_rollout(MODEL, reason="traffic is low at night, carry on")
    assert ro.status is RolloutStatus.RUNNING
    ro = served.promote_rollout(MODEL, reason="looks fine")
    assert ro.status is RolloutStatus.COMPLETED and _traffic(served) == {"v2": 1.0}


def test_manual_abort_and_guards(served: LocalEngine) -> None:
    with pytest.raises(InvalidInput, match="last step must be 100"):
        served.start_rollout(MODEL, "v2", steps=[5, 50], interval_s=60, guardrails=GUARDRAILS)
    with pytest.raises(InvalidInput, match="unknown metric"):
        served.start_rollout(MODEL, "v2", steps=[50, 100], interval_s=60, guardrails=["speed<1"])
    with pytest.raises(Conflict, match="already serves"):
        served.start_rollout(MODEL, "v1", steps=[50, 100], interval_s=60, guardrails=GUARDRAILS)
    served.start_rollout(MODEL, "v2", steps=[5, 100], interval_s=60, guardrails=GUARDRAILS)
    with pytest.raises(Conflict, match="already has rollout"):
        served.start_rollout(MODEL, "v3", steps=[5, 100], interval_s=60, guardrails=GUARDRAILS)
    ro = served.abort_rollout(MODEL, reason="changed my mind")
    assert ro.status is RolloutStatus.ABORTED and _traffic(served) == {"v1": 1.0}
    with pytest.raises(IllegalTransition, match="nothing to abort"):
        served.abort_rollout(MODEL, reason="again")


def test_ticks_skip_the_store_while_no_rollout_runs_and_see_the_next_one(
    served: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    active = rollouts_repo.active
    monkeypatch.setattr(rollouts_repo, "active", lambda conn: reads.append(1) or active(conn))
    assert served.rollouts.tick() == [] and served.rollouts.tick() == []
    assert len(reads) == 1  # the first tick looks; with nothing running, the next ones do not
    served.start_rollout(
        MODEL, "v2", steps=[50, 100], interval_s=60, guardrails=GUARDRAILS, min_samples=100
    )
    served.log_events(
        MODEL, [{"request_id": f"e{i}", "version": "v2", "prediction": 1} for i in range(10)]
    )
    [ro] = served.rollouts.tick(_later())  # a start wakes the ticks
    assert ro.status is RolloutStatus.PAUSED  # too few samples
    assert served.rollouts.tick(_later(120)) == [] and served.rollouts.tick(_later(180)) == []
    looked = len(reads)
    served.resume_rollout(MODEL, reason="carry on")
    [ro] = served.rollouts.tick(_later(240))  # so does a resume
    assert len(reads) == looked + 1 and ro.status is RolloutStatus.PAUSED
