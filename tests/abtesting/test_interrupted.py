"""A running A/B test yields to every outside change of its traffic: it ends as interrupted in
the change's own transaction, names the revision and actor, and never writes its old split
back. Pause and stop always work. On a real store through the whole engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from core.abtesting import ABTestConfig
from core.clock import utcnow
from core.domain import DeploymentRevision, TestStatus
from core.engine import LocalEngine
from core.errors import Conflict, IllegalTransition
from storage.repos import deployments as deployments_repo
from storage.repos import rollouts as rollouts_repo
from tests.serving.conftest import MODEL

GUARDRAILS = ["error_rate<0.5"]

CHANGES: dict[str, Callable[[LocalEngine], Any]] = {
    "deploy": lambda e: e.deploy(MODEL, "v3", reason="hotfix"),
    "traffic": lambda e: e.set_traffic(MODEL, {"v1": 0.9, "v3": 0.1}, reason="manual canary"),
    "rollback": lambda e: e.rollback(MODEL, reason="v2 looks slow"),
    "rollout": lambda e: e.start_rollout(
        MODEL, "v3", steps=[10, 100], interval_s=3600, guardrails=GUARDRAILS
    ),
}
AFTER = {
    "deploy": {"v3": 1.0},
    "traffic": {"v1": 0.9, "v3": 0.1},
    "rollback": {"v1": 1.0},
    "rollout": {"v1": 0.45, "v2": 0.45, "v3": 0.1},
}


def _config(**kw: object) -> ABTestConfig:
    base: dict[str, object] = dict(
        model=MODEL, name="v2 vs v1", versions=["v1", "v2"], split={"v1": 50, "v2": 50},
        primary_metric="accuracy", mde=0.1, min_sample_per_arm=200,
    )  # fmt: skip
    base.update(kw)
    return ABTestConfig(**base)  # type: ignore[arg-type]


def _running(engine: LocalEngine) -> str:
    test = engine.create_ab_test(_config(), reason="is v2 better?")
    engine.start_ab_test(test.id)
    return test.id


def _revisions(engine: LocalEngine) -> list[DeploymentRevision]:
    return engine.deployment_history(MODEL, environment="production")


def _events(engine: LocalEngine, kind: str) -> list[dict[str, Any]]:
    with engine.store.read() as conn:
        return [e for e in rollouts_repo.system_events(conn, MODEL) if e["kind"] == kind]


def _unseen_change(engine: LocalEngine, traffic: dict[str, float]) -> int:
    """A revision written the way an mlc from before the owner rule wrote it: no test heard of
    it. Returns its number."""
    with engine.store.write() as conn:
        current = deployments_repo.current(conn, MODEL, "production")
        number = int(current["revision"]) + 1 if current else 1
        deployments_repo.insert(conn, {
            "model_id": MODEL, "environment": "production", "revision": number,
            "traffic": json.dumps(traffic), "kind": "deploy",
            "actor": "local:older-mlc", "reason": "before the owner rule", "created_at": utcnow(),
        })  # fmt: skip
    return number


@pytest.mark.parametrize("kind", list(CHANGES))
def test_an_outside_change_ends_the_test_as_interrupted(served: LocalEngine, kind: str) -> None:
    test_id = _running(served)
    owner = served.traffic_owner(MODEL)
    assert owner is not None and (owner.kind, owner.id, owner.status) == (
        "abtest",
        test_id,
        "running",
    )
    assert "v1 50% · v2 50%" in owner.summary and "ends it as interrupted" in owner.warning()

    CHANGES[kind](served)

    rev = served.get_deployment(MODEL)
    assert rev is not None and rev.kind == kind and rev.traffic == pytest.approx(AFTER[kind])
    test = served.get_ab_test(test_id)
    assert test.status is TestStatus.INTERRUPTED and test.ended_at is not None
    assert f"production revision {rev.revision} ({kind} by {served.actor}" in test.reason
    [record] = served.list_audit(action="abtest.interrupted")
    assert (record.actor, record.target) == (served.actor, test_id)
    assert record.after["revision"] == rev.revision and record.after["kind"] == kind
    assert record.after["writer"] == (
        f"rollout:{served.get_rollout(MODEL).id}" if kind == "rollout" else None
    )
    [event] = _events(served, "abtest.interrupted")
    assert event["severity"] == "warning" and test_id in event["message"]
    after_owner = served.traffic_owner(MODEL)
    assert (after_owner.kind if after_owner else None) == ("rollout" if kind == "rollout" else None)

    # Pause and stop work and change nothing: the test's old split is never written back.
    history = _revisions(served)
    assert served.pause_ab_test(test_id, reason="incident").status is TestStatus.INTERRUPTED
    assert served.stop_ab_test(test_id, reason="incident").status is TestStatus.INTERRUPTED
    with pytest.raises(IllegalTransition, match=r"split of .* was interrupted by"):
        served.update_traffic_split(test_id, {"v1": 70, "v2": 30})
    with pytest.raises(IllegalTransition, match=r"start .* was interrupted by"):
        served.start_ab_test(test_id)
    with pytest.raises(IllegalTransition, match=r"was interrupted by .* only a running or paused"):
        served.promote_winner(test_id, force=True, reason="ship it")
    assert _revisions(served) == history
    assert served.get_ab_test(test_id).reason == test.reason  # what interrupted it stays told
    assert served.analyze_test_results(test_id).test_id == test_id  # its data still analyses


def test_the_interrupted_period_ends_with_the_change(served: LocalEngine) -> None:
    test_id = _running(served)
    served.deploy(MODEL, "v3", reason="hotfix")
    rev = served.get_deployment(MODEL)
    with served.store.read() as conn:
        row = conn.row("SELECT periods FROM ab_tests WHERE id = ?", [test_id])
    [period] = json.loads(row["periods"])
    assert rev is not None and period["end"] is not None
    assert abs(rev.created_at - datetime.fromisoformat(period["end"])) < timedelta(seconds=5)


def test_a_failed_change_leaves_the_test_running(served: LocalEngine) -> None:
    """The interruption commits with the revision or not at all."""
    test_id = _running(served)
    with pytest.raises(Conflict, match="changed meanwhile"):
        served.deploy(MODEL, "v3", expected_revision=1)  # stale: the test wrote revision 2
    with pytest.raises(Conflict, match="already serves"):
        served.set_traffic(MODEL, {"v1": 0.5, "v2": 0.5})
    assert served.get_ab_test(test_id).status is TestStatus.RUNNING
    assert served.list_audit(action="abtest.interrupted") == []


def test_a_paused_test_owns_nothing_and_resumes_from_the_newer_map(served: LocalEngine) -> None:
    test_id = _running(served)
    served.pause_ab_test(test_id, reason="look at the data")
    assert served.get_deployment(MODEL).traffic == {"v1": 1.0}
    assert served.traffic_owner(MODEL) is None
    served.deploy(MODEL, "v3", reason="hotfix while paused")
    assert served.get_ab_test(test_id).status is TestStatus.PAUSED
    served.start_ab_test(test_id, reason="carry on")  # resume
    assert served.get_deployment(MODEL).traffic == {"v1": 0.5, "v2": 0.5}
    served.stop_ab_test(test_id, reason="done")
    # Back to the map the resume replaced, not to the one from before the test.
    assert served.get_deployment(MODEL).traffic == {"v3": 1.0}


def test_stop_after_an_unseen_change_ends_the_test_without_restoring(served: LocalEngine) -> None:
    test_id = _running(served)
    number = _unseen_change(served, {"v3": 1.0})
    history = _revisions(served)
    test = served.stop_ab_test(test_id, reason="end it")
    assert test.status is TestStatus.INTERRUPTED
    assert f"revision {number} (deploy by local:older-mlc)" in test.reason
    assert _revisions(served) == history and served.get_deployment(MODEL).traffic == {"v3": 1.0}
    [record] = served.list_audit(action="abtest.interrupted")
    assert record.actor == "local:older-mlc" and record.after["revision"] == number


@pytest.mark.parametrize("action", ["pause", "split", "promote", "tick"])
def test_other_actions_after_an_unseen_change_end_the_test(
    served: LocalEngine, action: str
) -> None:
    test_id = _running(served)
    number = _unseen_change(served, {"v1": 0.8, "v3": 0.2})
    history = _revisions(served)
    if action == "pause":
        assert served.pause_ab_test(test_id).status is TestStatus.INTERRUPTED
    elif action == "split":
        with pytest.raises(IllegalTransition, match=f"revision {number}.*split was not changed"):
            served.update_traffic_split(test_id, {"v1": 70, "v2": 30})
    elif action == "promote":
        with pytest.raises(IllegalTransition, match=f"revision {number}.*can be promoted"):
            served.promote_winner(test_id, force=True, reason="ship it")
    else:
        [changed] = served.abtests.tick()
        assert changed.id == test_id
    test = served.get_ab_test(test_id)
    assert test.status is TestStatus.INTERRUPTED and f"revision {number}" in test.reason
    assert test.traffic_split == {"v1": 50.0, "v2": 50.0}
    assert _revisions(served) == history


def test_stop_returns_to_the_control_when_the_old_map_cannot_serve(served: LocalEngine) -> None:
    served.deploy(MODEL, "v3", reason="v3 serves before the test")
    test_id = _running(served)
    served.transition_version(MODEL, "v3", "archived", reason="retired during the test")
    test = served.stop_ab_test(test_id, reason="done")
    assert test.status is TestStatus.STOPPED
    rev = served.get_deployment(MODEL)
    assert rev is not None and rev.traffic == {"v1": 1.0}
    assert "cannot serve" in rev.reason and "the control takes 100%" in rev.reason


def test_an_automatic_canary_does_not_end_a_running_test(served: LocalEngine) -> None:
    test_id = _running(served)
    with pytest.raises(Conflict, match=f"A/B test {test_id} .* would end it as interrupted"):
        served.rollouts.start(
            MODEL, "v3", "production", steps=[10, 100], interval_s=60, guardrails=GUARDRAILS,
            failure_limit=0, min_samples=10, actor="policy:p-1", interrupt_owner=False,
        )  # fmt: skip
    assert served.get_ab_test(test_id).status is TestStatus.RUNNING
    assert served.get_deployment(MODEL).traffic == {"v1": 0.5, "v2": 0.5}


def test_a_resume_over_its_own_split_takes_that_map_over(served: LocalEngine) -> None:
    test_id = _running(served)
    served.pause_ab_test(test_id)
    served.set_traffic(MODEL, {"v1": 0.5, "v2": 0.5}, reason="the split by hand")
    number = len(_revisions(served))
    assert served.start_ab_test(test_id).status is TestStatus.RUNNING
    assert len(_revisions(served)) == number  # nothing to write: the split serves already
    served.deploy(MODEL, "v3", reason="and now a hotfix")
    assert served.get_ab_test(test_id).status is TestStatus.INTERRUPTED  # it owned that map
