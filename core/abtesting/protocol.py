"""A/B testing's operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from typing import Protocol

from core.abtesting.analysis import TestResults
from core.abtesting.config import ABTestConfig
from core.domain import ABTest, DeploymentRevision


class ABTesting(Protocol):
    """A/B tests between versions: lifecycle, split, analysis and promotion of the winner."""

    def create_ab_test(self, config: ABTestConfig, *, reason: str = "") -> ABTest: ...

    def list_ab_tests(self, *, model: str | None = None) -> list[ABTest]: ...

    def get_ab_test(self, test_id: str) -> ABTest: ...

    def start_ab_test(self, test_id: str, *, reason: str = "") -> ABTest: ...

    def pause_ab_test(self, test_id: str, *, reason: str = "") -> ABTest: ...

    def stop_ab_test(self, test_id: str, *, reason: str = "") -> ABTest: ...

    def update_traffic_split(
        self, test_id: str, split_percent: dict[str, float], *, reason: str = ""
    ) -> ABTest:
        """A running test's split, in percent per version (validated, audited)."""
        ...

    def analyze_test_results(self, test_id: str) -> TestResults: ...

    def promote_winner(
        self, test_id: str, *, force: bool = False, reason: str = ""
    ) -> DeploymentRevision:
        """100% to the winner, only when the analysis says so (or `force` with a reason)."""
        ...
