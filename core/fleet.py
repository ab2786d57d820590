"""The fleet at a glance: one row per model with its traffic, health, drift, alerts and
experiments — what the console's Fleet screen and `mlc status` show.

Built to be asked every second: one metrics query per model (one bucket covering the
window), a handful of small reads shared by all models, and the drift analysis from the
detector's cache (refreshed every `DRIFT_CACHE_S` seconds, never on every call).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.clock import utcnow
from core.domain import (
    AlertState,
    Environment,
    Model,
    Rollout,
    RolloutStatus,
    Severity,
    Task,
    TestStatus,
)
from core.errors import InvalidInput, MlcError

if TYPE_CHECKING:
    # Types only: a remote client decodes `ModelHealth` without importing the services
    # (and scikit-learn, scipy behind them), which keeps a client console's start fast.
    from core.abtesting import ABTestingEngine
    from core.alerting import AlertManager
    from core.deployments.manager import DeploymentManager
    from core.monitoring.drift import DriftDetector
    from core.monitoring.metrics import PerformanceMonitor
    from core.registry import ModelRegistry
    from core.rollout.controller import RolloutController

log = logging.getLogger(__name__)

_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass
class ABTestSummary:
    """A running or paused A/B test of the model."""

    id: str
    name: str
    status: TestStatus
    arms: list[str]
    """The versions under test; the first is the control."""
    split: dict[str, float]
    """Percent per version."""


@dataclass
class RolloutSummary:
    """The model's active (running or paused) progressive rollout in production."""

    id: str
    status: RolloutStatus
    canary_version: str
    step: int
    """1-based number of the step now serving; 0 before the first step."""
    steps: list[float]
    """Canary weights in percent, e.g. [5, 25, 50, 100]."""
    canary_weight: float
    """Percent of production traffic the canary serves now."""
    step_started_at: datetime
    failures: int


@dataclass
class ModelHealth:
    """One model of the fleet, over the last `window_s` seconds of its production traffic."""

    name: str
    task: Task
    window_s: float
    production: dict[str, float] = field(default_factory=dict)
    """`{version: weight}` of the production deployment (weights sum to 1); empty if none."""
    production_revision: int | None = None
    staging: dict[str, float] = field(default_factory=dict)
    staging_revision: int | None = None
    requests: int = 0
    requests_per_s: float = 0.0
    error_rate: float | None = None
    """None without requests."""
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    labelled: int = 0
    """Successful requests whose label (actual) has arrived."""
    accuracy: float | None = None
    """Classification, on the labelled requests; None otherwise."""
    mae: float | None = None
    """Regression, on the labelled requests; None otherwise."""
    drift_version: str | None = None
    """The version whose drift is shown: the one serving most of production."""
    drift_share: float | None = None
    """Share of drifted features over the window; None when it could not be measured."""
    drift_status: str = "no_traffic"
    """ok | insufficient_data | no_reference | no_traffic | error (logged)."""
    drift_at: datetime | None = None
    """When the (cached) drift analysis was computed."""
    firing_alerts: int = 0
    max_severity: Severity | None = None
    """The highest severity among the firing alerts."""
    ab_tests: list[ABTestSummary] = field(default_factory=list)
    rollout: RolloutSummary | None = None


class FleetService:
    def __init__(
        self,
        registry: ModelRegistry,
        deployments: DeploymentManager,
        monitor: PerformanceMonitor,
        drift: DriftDetector,
        alerts: AlertManager,
        abtests: ABTestingEngine,
        rollouts: RolloutController,
    ) -> None:
        self.registry = registry
        self.deployments = deployments
        self.monitor = monitor
        self.drift = drift
        self.alerts = alerts
        self.abtests = abtests
        self.rollouts = rollouts

    def fleet_status(self, window_s: float = 300) -> list[ModelHealth]:
        """Every model, by name, with its health over the last `window_s` seconds."""
        if not math.isfinite(window_s) or window_s < 1:
            raise InvalidInput(f"the window must be at least 1 second, got {window_s:g}")
        if window_s > 30 * 86400:
            raise InvalidInput("the window must be at most 30 days")
        models = sorted(self.registry.list_models(), key=lambda m: m.id)
        current = {(r.model_id, r.environment): r for r in self.deployments.all_current()}
        firing: dict[str, list[Severity]] = {}
        for alert in self.alerts.list_alerts(AlertState.FIRING):
            firing.setdefault(alert.model_id, []).append(alert.severity)
        tests: dict[str, list[ABTestSummary]] = {}
        for t in self.abtests.list_tests():
            if t.status in (TestStatus.RUNNING, TestStatus.PAUSED):
                tests.setdefault(t.model_id, []).append(
                    ABTestSummary(t.id, t.name, t.status, list(t.model_versions),
                                  dict(t.traffic_split))
                )  # fmt: skip
        rollouts = {
            r.model_id: _rollout(r)
            for r in self.rollouts.list_active()
            if r.environment is Environment.PRODUCTION
        }
        end = utcnow()
        start = end - timedelta(seconds=window_s)
        rows = []
        for model in models:
            row = ModelHealth(name=model.id, task=model.task, window_s=window_s)
            prod = current.get((model.id, Environment.PRODUCTION))
            staging = current.get((model.id, Environment.STAGING))
            if prod is not None:
                row.production, row.production_revision = dict(prod.traffic), prod.revision
            if staging is not None:
                row.staging, row.staging_revision = dict(staging.traffic), staging.revision
            self._health(row, model, start, end)
            self._drift(row, window_s)
            severities = firing.get(model.id, [])
            row.firing_alerts = len(severities)
            row.max_severity = max(severities, key=_SEVERITY_RANK.__getitem__, default=None)
            row.ab_tests = tests.get(model.id, [])
            row.rollout = rollouts.get(model.id)
            rows.append(row)
        return rows

    def _health(self, row: ModelHealth, model: Model, start: datetime, end: datetime) -> None:
        pooled = self.monitor.window_summary(
            model, start, end, environment=Environment.PRODUCTION.value
        )
        if pooled is None or not pooled.requests:
            return
        row.requests = pooled.requests
        row.requests_per_s = pooled.requests / row.window_s
        row.error_rate = pooled.error_rate
        row.latency_p50_ms, row.latency_p99_ms = pooled.latency_p50_ms, pooled.latency_p99_ms
        row.labelled = pooled.labelled
        row.accuracy = pooled.accuracy if model.task is Task.CLASSIFICATION else None
        row.mae = pooled.mae if model.task is Task.REGRESSION else None

    def _drift(self, row: ModelHealth, window_s: float) -> None:
        serving = max(row.production, key=row.production.__getitem__) if row.production else None
        try:
            cached = self.drift.cached_drift(row.name, serving, window=timedelta(seconds=window_s))
        except MlcError as e:
            # One model's unreadable reference must not blank the whole fleet.
            log.warning("drift of %s %s failed: %s", row.name, serving, e)
            row.drift_version, row.drift_status = serving, "error"
            return
        row.drift_version, row.drift_at = cached.version, cached.computed_at
        if cached.analysis is None:
            row.drift_status = "no_traffic"
            return
        row.drift_status = cached.analysis.status
        if cached.analysis.status == "ok":
            row.drift_share = cached.analysis.drift_share


def _rollout(r: Rollout) -> RolloutSummary:
    return RolloutSummary(
        id=r.id, status=r.status, canary_version=r.canary_version, step=r.step_index + 1,
        steps=list(r.steps), canary_weight=r.canary_weight, step_started_at=r.step_started_at,
        failures=r.failures,
    )  # fmt: skip
