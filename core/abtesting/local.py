"""`LocalEngine`'s A/B test operations (`core.abtesting.protocol.ABTesting`), in this process."""

from __future__ import annotations

from core.abtesting.config import ABTestConfig
from core.abtesting.engine import ABTestingEngine
from core.domain import ABTest, DeploymentRevision
from core.forward import forward


class LocalABTesting:
    """A/B test operations over `ABTestingEngine`, audited under the engine's actor."""

    actor: str
    abtests: ABTestingEngine

    list_ab_tests = forward("abtests", ABTestingEngine.list_tests)
    get_ab_test = forward("abtests", ABTestingEngine.get)
    analyze_test_results = forward("abtests", ABTestingEngine.analyze_test_results)

    def create_ab_test(self, config: ABTestConfig, *, reason: str = "") -> ABTest:
        return self.abtests.create_ab_test(config, actor=self.actor, reason=reason)

    def start_ab_test(self, test_id: str, *, reason: str = "") -> ABTest:
        return self.abtests.start(test_id, actor=self.actor, reason=reason)

    def pause_ab_test(self, test_id: str, *, reason: str = "") -> ABTest:
        return self.abtests.pause(test_id, actor=self.actor, reason=reason)

    def stop_ab_test(self, test_id: str, *, reason: str = "") -> ABTest:
        return self.abtests.stop(test_id, actor=self.actor, reason=reason)

    def update_traffic_split(
        self, test_id: str, split_percent: dict[str, float], *, reason: str = ""
    ) -> ABTest:
        self.abtests.update_traffic_split(test_id, split_percent, actor=self.actor, reason=reason)
        return self.abtests.get(test_id)

    def promote_winner(
        self, test_id: str, *, force: bool = False, reason: str = ""
    ) -> DeploymentRevision:
        return self.abtests.promote_winner(test_id, actor=self.actor, force=force, reason=reason)
