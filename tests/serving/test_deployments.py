"""Revision history, compare-and-set, status sync and rollback on real DuckDB files."""

from __future__ import annotations

import threading

import pytest

from core.abtesting import ABTestConfig
from core.domain import ModelStatus, TestStatus
from core.engine import LocalEngine
from core.errors import Conflict, IllegalTransition, InvalidInput
from tests.serving.conftest import MODEL


def test_deploy_appends_revisions_and_versions_follow_where_they_serve(served: LocalEngine) -> None:
    assert served.get_version(MODEL, "v1").status is ModelStatus.PRODUCTION
    served.deploy(MODEL, "v2", environment="staging")
    assert served.get_version(MODEL, "v2").status is ModelStatus.STAGING
    served.deploy(MODEL, "v2", reason="promote after staging")
    assert served.get_version(MODEL, "v2").status is ModelStatus.PRODUCTION
    assert served.get_version(MODEL, "v1").status is ModelStatus.VALIDATED
    history = served.deployment_history(MODEL, environment="production")
    assert [(r.revision, r.traffic, r.kind) for r in history] == [
        (1, {"v1": 1.0}, "deploy"),
        (2, {"v2": 1.0}, "deploy"),
    ]
    assert history[1].reason == "promote after staging" and history[1].actor == "test:alice"
    assert [r.action for r in served.list_audit(action="deployment")][-1] == "deployment.deploy"


def test_only_deployable_versions_deploy(served: LocalEngine, artifact_bytes: bytes) -> None:
    served.register_version(MODEL, artifact_bytes, algorithm="lr")  # v4, registered
    with pytest.raises(IllegalTransition, match="must be validated"):
        served.deploy(MODEL, "v4")
    served.transition_version(MODEL, "v4", "rejected")
    with pytest.raises(IllegalTransition, match="rejected version can never be deployed"):
        served.deploy(MODEL, "v4")
    with pytest.raises(InvalidInput, match="unknown environment"):
        served.deploy(MODEL, "v2", environment="prod")


@pytest.mark.parametrize(
    ("traffic", "message"),
    [
        ({"v1": 0.5, "v2": 0.4}, "sum to 0.9"),
        ({"v1": float("nan"), "v2": 1.0}, "NaN"),
        ({"v1": -0.5, "v2": 1.5}, "negative"),
        ({"v1": 1.0, "v9": 0.0}, "no version v9"),
    ],
)
def test_bad_traffic_maps_are_refused(served: LocalEngine, traffic: dict, message: str) -> None:
    with pytest.raises(Exception, match=message):
        served.set_traffic(MODEL, traffic)
    assert len(served.deployment_history(MODEL)) == 1


def test_conflicting_changes_exactly_one_wins(served: LocalEngine) -> None:
    results: list[object] = []
    barrier = threading.Barrier(6)

    def change(i: int) -> None:
        barrier.wait()
        try:
            rev = served.set_traffic(
                MODEL, {"v1": 1 - i / 10, "v2": i / 10}, reason=f"try {i}", expected_revision=1
            )
            results.append(rev.revision)
        except Conflict as e:
            results.append(e)

    threads = [threading.Thread(target=change, args=(i,)) for i in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(2) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 5
    assert len(served.deployment_history(MODEL)) == 2


def test_rollback_restores_the_last_known_good_map_as_a_new_revision(served: LocalEngine) -> None:
    served.set_traffic(MODEL, {"v1": 0.9, "v2": 0.1}, reason="canary")
    served.deploy(MODEL, "v3", reason="bad release")
    preview = served.rollback(MODEL, reason="v3 errors", dry_run=True)
    assert preview.traffic == {"v1": 0.9, "v2": 0.1} and preview.revision == 4
    assert len(served.deployment_history(MODEL)) == 3  # dry run stored nothing
    rev = served.rollback(MODEL, reason="v3 errors")
    assert rev.revision == 4 and rev.traffic == {"v1": 0.9, "v2": 0.1} and rev.kind == "rollback"
    history = served.deployment_history(MODEL)
    assert [r.healthy for r in history] == [True, True, False, True]  # v3's revision marked bad
    assert served.get_version(MODEL, "v3").status is ModelStatus.VALIDATED
    # Rolling back again skips the bad revision and the identical one: back to revision 1.
    again = served.rollback(MODEL, reason="canary too")
    assert again.traffic == {"v1": 1.0}
    explicit = served.rollback(MODEL, to_version="v2", reason="pin v2")
    assert explicit.traffic == {"v2": 1.0}
    by_number = served.rollback(MODEL, to_revision=2, reason="back to the canary")
    assert by_number.traffic == {"v1": 0.9, "v2": 0.1}
    with pytest.raises(InvalidInput, match="needs a reason"):
        served.rollback(MODEL, reason=" ")
    with pytest.raises(Conflict, match="already serves"):
        served.rollback(MODEL, to_revision=2, reason="same")


def test_operators_racing_over_a_running_test_one_wins_and_ends_it_once(
    served: LocalEngine,
) -> None:
    test = served.create_ab_test(
        ABTestConfig(model=MODEL, name="t", versions=["v1", "v2"], split={"v1": 50, "v2": 50})
    )
    served.start_ab_test(test.id)
    owner = served.traffic_owner(MODEL)
    assert owner is not None and owner.id == test.id and owner.traffic == {"v1": 0.5, "v2": 0.5}
    assert served.traffic_owner(MODEL, environment="staging") is None
    results: list[object] = []
    barrier = threading.Barrier(4)

    def change(version: str) -> None:
        barrier.wait()
        try:
            results.append(served.deploy(MODEL, version, expected_revision=2).revision)
        except Conflict as e:
            results.append(e)

    threads = [threading.Thread(target=change, args=(v,)) for v in ("v1", "v2", "v3", "v1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(3) == 1 and sum(isinstance(r, Conflict) for r in results) == 3
    ended = served.get_ab_test(test.id)
    assert ended.status is TestStatus.INTERRUPTED and "revision 3 (deploy by" in ended.reason
    assert len(served.list_audit(action="abtest.interrupted")) == 1
    assert served.traffic_owner(MODEL) is None
