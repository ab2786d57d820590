"""A/B testing's operations of the engine (`core.engine.Engine`). Each is declared here once, with
its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from typing import Protocol

from core.abtesting.config import ABTestConfig
from core.abtesting.engine import ABTestingEngine
from core.domain import ABTest, DeploymentRevision
from core.forward import forward, in_process


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    actor: str
    abtests: ABTestingEngine


class ABTesting(Protocol):
    """A/B tests between versions: lifecycle, split, analysis and promotion of the winner."""

    def create_ab_test(self, config: ABTestConfig, *, reason: str = "") -> ABTest:
        parts = in_process(self, _Parts)
        return parts.abtests.create_ab_test(config, actor=parts.actor, reason=reason)

    list_ab_tests = forward("abtests", ABTestingEngine.list_tests)

    get_ab_test = forward("abtests", ABTestingEngine.get)

    def start_ab_test(self, test_id: str, *, reason: str = "") -> ABTest:
        parts = in_process(self, _Parts)
        return parts.abtests.start(test_id, actor=parts.actor, reason=reason)

    def pause_ab_test(self, test_id: str, *, reason: str = "") -> ABTest:
        parts = in_process(self, _Parts)
        return parts.abtests.pause(test_id, actor=parts.actor, reason=reason)

    def stop_ab_test(self, test_id: str, *, reason: str = "") -> ABTest:
        parts = in_process(self, _Parts)
        return parts.abtests.stop(test_id, actor=parts.actor, reason=reason)

    def update_traffic_split(
        self, test_id: str, split_percent: dict[str, float], *, reason: str = ""
    ) -> ABTest:
        """A running test's split, in percent per version (validated, audited)."""
        parts = in_process(self, _Parts)
        parts.abtests.update_traffic_split(test_id, split_percent, actor=parts.actor, reason=reason)
        return parts.abtests.get(test_id)

    analyze_test_results = forward("abtests", ABTestingEngine.analyze_test_results)

    def promote_winner(
        self, test_id: str, *, force: bool = False, reason: str = ""
    ) -> DeploymentRevision:
        """100% to the winner, only when the analysis says so (or `force` with a reason)."""
        parts = in_process(self, _Parts)
        return parts.abtests.promote_winner(test_id, actor=parts.actor, force=force, reason=reason)
