"""Pre-flight before traffic: every way a version gains traffic loads it afresh and has it
answer smoke predictions first, and a version that fails is refused with nothing written;
restoring a map that served before (an abort, the end of an A/B test) is never refused."""

from __future__ import annotations

import time

import pytest

from core.abtesting import ABTestConfig
from core.domain import RolloutStatus, TestStatus
from core.engine import LocalEngine
from core.errors import Conflict
from core.serving import gateway
from tests.serving.conftest import MODEL, features
from tests.serving.test_failures import corrupt, fitted, two_versions

REFUSED = r"credit-default:v2 failed its pre-flight check.*IntegrityError"


@pytest.fixture
def pair(engine: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> LocalEngine:
    """v1 serving, v2 sound; a pass is never reused, as if each check came much later."""
    monkeypatch.setattr(gateway, "PREFLIGHT_VALID_S", 0.0)
    two_versions(engine, fitted(C=0.1))
    return engine


def _config(**kw: object) -> ABTestConfig:
    return ABTestConfig(model=MODEL, name="canary", versions=["v1", "v2"], **kw)  # type: ignore[arg-type]


def test_ab_create_and_start_refuse_a_version_that_cannot_serve(pair: LocalEngine) -> None:
    path = pair.artifacts.path_for(pair.registry.get_version(MODEL, "v2").artifact_sha256)
    good = path.read_bytes()
    corrupt(pair, "v2")
    with pytest.raises(Conflict, match=REFUSED):
        pair.create_ab_test(_config())
    assert pair.list_ab_tests() == []
    path.write_bytes(good)
    test = pair.create_ab_test(_config())
    corrupt(pair, "v2")
    with pytest.raises(Conflict, match=REFUSED):
        pair.start_ab_test(test.id)
    assert pair.get_ab_test(test.id).status is TestStatus.DRAFT
    assert pair.get_deployment(MODEL).traffic == {"v1": 1.0}


def test_a_rollout_step_aborts_when_the_canary_fails_its_pre_flight(pair: LocalEngine) -> None:
    ro = pair.start_rollout(
        MODEL, "v2", steps=[20, 50, 100], interval_s=0.2, guardrails=["error_rate<0.5"],
        min_samples=5,
    )  # fmt: skip
    assert ro.canary_weight == 20
    pair.predict(MODEL, [{"unit_id": f"u{i}", "features": features(i)} for i in range(100)])
    corrupt(pair, "v2")  # it serves from memory; a step would send it more traffic
    time.sleep(0.25)
    [ro] = pair.rollouts.tick()
    assert ro.status is RolloutStatus.ABORTED
    assert "aborted before step 2" in ro.reason and "IntegrityError" in ro.reason
    assert pair.get_deployment(MODEL).traffic == {"v1": 1.0}  # the abort was not refused


def test_a_rollout_promotion_and_an_ab_promotion_refuse_a_broken_winner(
    pair: LocalEngine,
) -> None:
    pair.start_rollout(MODEL, "v2", steps=[20, 100], interval_s=3600, guardrails=[])
    corrupt(pair, "v2")
    with pytest.raises(Conflict, match=REFUSED):
        pair.rollouts.promote(MODEL, "production", actor="test", reason="ship it")
    assert pair.get_rollout(MODEL).status is RolloutStatus.RUNNING
    # The abort restores v1 without any pre-flight of it: ending is never refused.
    pair.rollouts.abort(MODEL, "production", actor="test", reason="broken")
    assert pair.get_deployment(MODEL).traffic == {"v1": 1.0}
