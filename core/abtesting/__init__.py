"""A/B tests between model versions: configuration, analysis and the engine that runs them."""

from core.abtesting.config import METRICS, ABTestConfig
from core.abtesting.engine import ABTestingEngine
from core.abtesting.results import GuardrailStatus, MetricComparison, TestResults

__all__ = [
    "METRICS",
    "ABTestConfig",
    "ABTestingEngine",
    "GuardrailStatus",
    "MetricComparison",
    "TestResults",
]
