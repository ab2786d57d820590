"""What an alert rule measures: the metric's value over the rule's window, or None.

None means insufficient data, which never opens or fires an alert: no traffic, too few
events for a drift test, or a drift reference missing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from core.clock import utcnow
from core.monitoring.drift import DriftDetector
from core.monitoring.window import window_metrics
from core.registry import ModelRegistry
from storage.store import Store

Value = tuple[float | None, int] | None


class Rule(Protocol):
    """What is measured of an alert rule (`core.domain.AlertRule`, which the engine's
    alert manager hands these values)."""

    @property
    def model_id(self) -> str: ...
    @property
    def metric_name(self) -> str: ...
    @property
    def window_s(self) -> int: ...


def rule_values(
    store: Store, registry: ModelRegistry, drift: DriftDetector
) -> Callable[[Rule], Value]:
    def values(rule: Rule) -> Value:
        end = utcnow()
        start = end - timedelta(seconds=rule.window_s)
        metric = rule.metric_name
        if metric.startswith("event."):
            return None  # event rules are driven by system events, not values
        if metric == "concept_drift":
            found = drift.concept_drift(
                rule.model_id, window=timedelta(seconds=rule.window_s), end=end
            )
            return (1.0 if found.detected else 0.0, found.labelled) if found.labelled else None
        if metric == "drift_share" or metric.startswith(("drift.", "psi.")):
            _, analysis = drift.detect_drift(
                rule.model_id, window=timedelta(seconds=rule.window_s), end=end
            )
            if analysis.status != "ok":
                return None
            if metric == "drift_share":
                return analysis.drift_share, analysis.current_size
            kind, feature = metric.split(".", 1)
            found = next((f for f in analysis.features if f.feature == feature), None)
            if found is None:
                return None
            return (found.statistic if kind == "drift" else found.psi), found.current_size
        task = registry.get_model(rule.model_id).task
        measured = window_metrics(store, rule.model_id, task, start, end).get(metric)
        if measured is None or measured[1] == 0:
            return None
        return measured

    return values
