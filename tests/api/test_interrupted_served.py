"""Through a running `mlc serve` (a real server on its socket): a change of a model's traffic
ends the A/B test or rollout owning it as interrupted, the owner read names it first, and
stop, pause and abort still work, with the same answers as the embedded engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.client import RemoteEngine
from core.abtesting import ABTestConfig
from core.deployments.owners import TrafficOwner
from core.domain import RolloutStatus, TestStatus
from core.errors import Conflict
from tests.api.conftest import FEATURES
from tests.api.test_serve import Served, start_server

GUARDRAILS = ["error_rate<0.5"]
CHANGES: dict[str, Callable[[RemoteEngine, str], Any]] = {
    "deploy": lambda e, m: e.deploy(m, "v3", reason="hotfix"),
    "traffic": lambda e, m: e.set_traffic(m, {"v1": 0.9, "v3": 0.1}, reason="by hand"),
    "rollback": lambda e, m: e.rollback(m, reason="v2 is slow"),
    "rollout": lambda e, m: e.start_rollout(
        m, "v3", steps=[10, 100], interval_s=3600, guardrails=GUARDRAILS
    ),
}


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteEngine]:
    server: Served = start_server(tmp_path_factory.mktemp("owner") / "store")
    engine = RemoteEngine(socket=server.socket)
    try:
        yield engine
    finally:
        engine.close()
        server.stop()


def _model(remote: RemoteEngine, name: str, artifact: bytes) -> str:
    remote.create_model(name, "classification", target="default", features=FEATURES)
    for _ in range(3):
        v = remote.register_version(name, artifact, algorithm="logistic_regression")
        remote.transition_version(name, v.version, "validated")
    remote.deploy(name, "v1", reason="stable")
    return name


@pytest.mark.parametrize("kind", list(CHANGES))
def test_an_outside_change_interrupts_the_test_over_http(
    remote: RemoteEngine, artifact_bytes: bytes, kind: str
) -> None:
    model = _model(remote, f"ab-{kind}", artifact_bytes)
    test = remote.create_ab_test(
        ABTestConfig(model=model, name="t", versions=["v1", "v2"], split={"v1": 50, "v2": 50})
    )
    remote.start_ab_test(test.id)
    owner = remote.traffic_owner(model)
    assert isinstance(owner, TrafficOwner) and (owner.kind, owner.id) == ("abtest", test.id)
    assert owner.traffic == {"v1": 0.5, "v2": 0.5} and "v1 50% · v2 50%" in owner.summary
    raw = remote._call("GET", f"/api/v1/models/{model}/deployments/production/owner")
    assert set(raw["owner"]) == {"kind", "id", "status", "model_id", "environment", "summary",
                                 "traffic"}  # fmt: skip

    CHANGES[kind](remote, model)

    rev = remote.get_deployment(model)
    ended = remote.get_ab_test(test.id)
    assert rev is not None and ended.status is TestStatus.INTERRUPTED
    assert f"revision {rev.revision} ({kind} by {remote.actor}" in ended.reason
    history = remote.deployment_history(model)
    assert remote.stop_ab_test(test.id, reason="x").status is TestStatus.INTERRUPTED
    assert remote.pause_ab_test(test.id, reason="x").status is TestStatus.INTERRUPTED
    with pytest.raises(Conflict, match="was interrupted by"):
        remote.update_traffic_split(test.id, {"v1": 70, "v2": 30})
    assert remote.deployment_history(model) == history
    [record] = remote.list_audit(model=model, action="abtest.interrupted")
    assert record.actor == remote.actor and record.after["revision"] == rev.revision


def test_an_outside_change_interrupts_the_rollout_over_http(
    remote: RemoteEngine, artifact_bytes: bytes
) -> None:
    model = _model(remote, "ro-traffic", artifact_bytes)
    ro = remote.start_rollout(model, "v2", steps=[10, 100], interval_s=3600, guardrails=GUARDRAILS)
    owner = remote.traffic_owner(model)
    assert owner is not None and (owner.kind, owner.id, owner.status) == (
        "rollout",
        ro.id,
        "running",
    )
    assert remote.traffic_owner(model, environment="staging") is None
    remote.set_traffic(model, {"v1": 0.5, "v3": 0.5}, reason="by hand")
    after = remote.get_rollout(model)
    assert after.status is RolloutStatus.INTERRUPTED and "(traffic by" in after.reason
    assert remote.traffic_owner(model) is None
    history = remote.deployment_history(model)
    assert remote.abort_rollout(model, reason="x").status is RolloutStatus.INTERRUPTED
    with pytest.raises(Conflict, match="nothing to promote"):
        remote.promote_rollout(model)
    assert remote.deployment_history(model) == history
    assert remote.get_deployment(model).traffic == {"v1": 0.5, "v3": 0.5}
