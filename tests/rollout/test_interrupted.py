"""An active rollout yields to every outside change of its traffic: it ends as interrupted in
the change's own transaction (audit record, system event), and its steps, promote and abort
never write a map over the newer one."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from core.abtesting import ABTestConfig
from core.clock import utcnow
from core.domain import DeploymentRevision, RolloutStatus, TestStatus
from core.engine import LocalEngine
from core.errors import Conflict, IllegalTransition
from storage.repos import deployments as deployments_repo
from storage.repos import rollouts as rollouts_repo
from tests.rollout.conftest import MODEL

GUARDRAILS = ["error_rate<0.5"]

CHANGES: dict[str, Callable[[LocalEngine], Any]] = {
    "deploy": lambda e: e.deploy(MODEL, "v3", reason="hotfix"),
    "traffic": lambda e: e.set_traffic(MODEL, {"v1": 0.5, "v3": 0.5}, reason="by hand"),
    "rollback": lambda e: e.rollback(MODEL, reason="the canary looks slow"),
}


def _rolling(engine: LocalEngine) -> str:
    ro = engine.start_rollout(
        MODEL, "v2", steps=[10, 50, 100], interval_s=60, guardrails=GUARDRAILS, min_samples=1
    )
    return ro.id


def _revisions(engine: LocalEngine) -> list[DeploymentRevision]:
    return engine.deployment_history(MODEL, environment="production")


def _events(engine: LocalEngine, kind: str) -> list[dict[str, Any]]:
    with engine.store.read() as conn:
        return [e for e in rollouts_repo.system_events(conn, MODEL) if e["kind"] == kind]


def _healthy_canary(engine: LocalEngine) -> None:
    events = [{"request_id": f"ok-{v}-{i}", "version": v, "prediction": 0, "latency_ms": 2.0}
              for v in ("v1", "v2") for i in range(50)]  # fmt: skip
    engine.log_events(MODEL, events)


@pytest.mark.parametrize("kind", list(CHANGES))
@pytest.mark.parametrize("paused", [False, True], ids=["running", "paused"])
def test_an_outside_change_ends_the_rollout_as_interrupted(
    served: LocalEngine, kind: str, paused: bool
) -> None:
    rollout_id = _rolling(served)
    if paused:
        served.pause_rollout(MODEL, reason="lunch")
    owner = served.traffic_owner(MODEL)
    assert owner is not None and (owner.kind, owner.id) == ("rollout", rollout_id)
    assert "canary at 10%: v1 90% · v2 10%" in owner.summary

    CHANGES[kind](served)

    rev = served.get_deployment(MODEL)
    assert rev is not None and rev.kind == kind
    ro = served.get_rollout(MODEL)
    assert ro.status is RolloutStatus.INTERRUPTED
    assert f"production revision {rev.revision} ({kind} by {served.actor}" in ro.reason
    assert served.traffic_owner(MODEL) is None
    [record] = served.list_audit(action="rollout.interrupted")
    assert (record.actor, record.target, record.after["revision"]) == (
        served.actor, rollout_id, rev.revision,
    )  # fmt: skip
    [event] = _events(served, "rollout.interrupted")
    assert event["severity"] == "warning" and json.loads(event["payload"])["rollout"] == rollout_id

    # Pause and abort change nothing, resume and promote refuse, ticks leave it alone.
    history = _revisions(served)
    assert served.abort_rollout(MODEL, reason="incident").status is RolloutStatus.INTERRUPTED
    assert served.pause_rollout(MODEL).status is RolloutStatus.INTERRUPTED
    with pytest.raises(IllegalTransition, match=r"was interrupted by .* nothing to resume"):
        served.resume_rollout(MODEL)
    with pytest.raises(IllegalTransition, match=r"was interrupted by .* nothing to promote"):
        served.promote_rollout(MODEL)
    _healthy_canary(served)
    assert served.rollouts.tick(utcnow() + timedelta(seconds=120)) == []
    assert _revisions(served) == history
    assert served.get_rollout(MODEL).reason == ro.reason


def test_a_paused_ab_test_waits_for_the_rollout(served: LocalEngine) -> None:
    test = served.create_ab_test(
        ABTestConfig(model=MODEL, name="t", versions=["v1", "v3"], split={"v1": 50, "v3": 50})
    )
    served.start_ab_test(test.id)
    served.pause_ab_test(test.id)  # a paused test owns nothing: a rollout may start
    _rolling(served)
    assert served.get_ab_test(test.id).status is TestStatus.PAUSED
    with pytest.raises(Conflict, match=r"has rollout .* in progress"):
        served.start_ab_test(test.id)
    served.deploy(MODEL, "v1", reason="enough of the canary")  # ends the rollout
    assert served.get_rollout(MODEL).status is RolloutStatus.INTERRUPTED
    assert served.start_ab_test(test.id).status is TestStatus.RUNNING
    assert served.get_deployment(MODEL).traffic == {"v1": 0.5, "v3": 0.5}


@pytest.mark.parametrize("action", ["tick", "abort", "promote", "pause", "resume"])
def test_after_an_unseen_change_the_rollout_ends_without_writing(
    served: LocalEngine, action: str
) -> None:
    """A revision written the way an mlc from before the owner rule wrote it: the rollout
    finds its map replaced and ends instead of stepping, promoting or restoring over it."""
    rollout_id = _rolling(served)
    if action == "resume":
        served.pause_rollout(MODEL)
    with served.store.write() as conn:
        deployments_repo.insert(conn, {
            "model_id": MODEL, "environment": "production", "revision": 3,
            "traffic": json.dumps({"v3": 1.0}), "kind": "deploy", "actor": "local:older-mlc",
            "reason": "", "created_at": utcnow(),
        })  # fmt: skip
    history = _revisions(served)
    if action == "tick":
        _healthy_canary(served)
        [ro] = served.rollouts.tick(utcnow() + timedelta(seconds=120))
    elif action in ("abort", "pause"):
        ro = getattr(served, f"{action}_rollout")(MODEL, reason="x")
    else:
        with pytest.raises(IllegalTransition, match=f"revision 3 .* nothing to {action}"):
            getattr(served, f"{action}_rollout")(MODEL, reason="x")
        ro = served.get_rollout(MODEL)
    assert ro.id == rollout_id and ro.status is RolloutStatus.INTERRUPTED
    assert "revision 3 (deploy by local:older-mlc)" in ro.reason
    assert _revisions(served) == history and served.get_deployment(MODEL).traffic == {"v3": 1.0}


def test_the_rollouts_own_writes_do_not_interrupt_it(served: LocalEngine) -> None:
    _rolling(served)
    _healthy_canary(served)
    [ro] = served.rollouts.tick(utcnow() + timedelta(seconds=120))
    assert ro.status is RolloutStatus.RUNNING and ro.canary_weight == 50
    ro = served.promote_rollout(MODEL, reason="fine")
    assert ro.status is RolloutStatus.COMPLETED and served.get_deployment(MODEL).traffic == {
        "v2": 1.0
    }
    assert served.list_audit(action="rollout.interrupted") == []


def test_promoting_a_paused_ab_test_ends_the_rollout(served: LocalEngine) -> None:
    test = served.create_ab_test(
        ABTestConfig(model=MODEL, name="t", versions=["v1", "v3"], split={"v1": 50, "v3": 50})
    )
    served.start_ab_test(test.id)
    events = [{"request_id": f"e{v}-{i}", "version": v, "prediction": i % 2, "latency_ms": 2.0}
              for v in ("v1", "v3") for i in range(40)]  # fmt: skip
    served.log_events(MODEL, events)
    served.record_actuals(MODEL, [{"request_id": e["request_id"], "actual": 1} for e in events])
    served.pause_ab_test(test.id)  # a paused test owns nothing: a rollout may start
    rollout_id = _rolling(served)
    owner = served.traffic_owner(MODEL)
    assert owner is not None and owner.id == rollout_id
    rev = served.promote_winner(test.id, force=True, reason="v3 it is")
    ro = served.get_rollout(MODEL)
    assert ro.id == rollout_id and ro.status is RolloutStatus.INTERRUPTED
    assert f"revision {rev.revision} (promote by {served.actor}, abtest {test.id})" in ro.reason
    assert served.get_ab_test(test.id).status is TestStatus.COMPLETED
