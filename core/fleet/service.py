"""The fleet at a glance: one row per model with its traffic, health, drift, alerts and
experiments — what the console's Fleet screen and `mlc status` show — and one model's health
per version, for the Live screen's summary.

Each figure names its interval. A row's requests, rates, latency and quality all come from
the events of one interval, [start, end) (the last 60 s by default), and say so
(`window_s`, `start`, `end`). Requests per second are over that interval, or over the time
since the first request when the traffic began inside it (see `rate_seconds`). Drift needs
more events than a minute holds, so it is over its own, longer interval (`drift_window_s`,
up to `drift_at`), named apart.

Built to be asked every second: one metrics query per model (one bucket covering the
window), one scan for where traffic began and a handful of small reads shared by all models,
and the drift analysis from the detector's cache (refreshed every `DRIFT_CACHE_S` seconds,
never on every call).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.clock import as_utc, utcnow
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

WINDOW_S = 60.0
"""The default interval of a health summary: recent enough that a drop to zero shows within
a minute, long enough to hold a rate and a p99 at a few requests per second."""
MIN_RATE_S = 10.0
"""The shortest interval a rate is taken over, so that one request after a silence does not
read as a burst (see `rate_seconds`)."""
ONSET_LOOKBACK_S = 3600.0
"""How far back `rate_seconds`' silence before the interval is looked for, at most."""
DRIFT_WINDOW_S = 300.0
"""The fleet's drift is over at least this much traffic: a verdict needs more events than a
minute of a quiet model holds (and 5 minutes cost ~0.15 s per analysis, every 20 s)."""

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
    """One model of the fleet: its production traffic over the interval [start, end), the
    last `window_s` seconds up to the engine's clock when asked (the same for every row of
    one call)."""

    name: str
    task: Task
    window_s: float
    start: datetime
    end: datetime
    rate_s: float
    """The seconds `requests_per_s` is over: `window_s`, or fewer when the model's traffic
    began inside the interval (`rate_seconds`)."""
    production: dict[str, float] = field(default_factory=dict)
    """`{version: weight}` of the production deployment (weights sum to 1); empty if none."""
    production_revision: int | None = None
    staging: dict[str, float] = field(default_factory=dict)
    staging_revision: int | None = None
    requests: int = 0
    """Production requests in [start, end), every version pooled."""
    requests_per_s: float = 0.0
    """`requests / rate_s`."""
    error_rate: float | None = None
    """Failed / requests in the interval; None without requests."""
    invalid: int = 0
    """Predictions asked for in the interval by requests refused as invalid input (HTTP
    400): counted apart, never in `requests` nor charged to a version."""
    invalid_rate: float | None = None
    """`invalid` / (`invalid` + `requests`); None when nothing was asked."""
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    """Of the interval's requests."""
    labelled: int = 0
    """The interval's successful requests whose label (actual) has arrived."""
    accuracy: float | None = None
    """Classification, on those labelled requests; None otherwise."""
    mae: float | None = None
    """Regression, on those labelled requests; None otherwise."""
    drift_version: str | None = None
    """The version whose drift is shown: the one serving most of production."""
    drift_window_s: float = DRIFT_WINDOW_S
    """Drift is over its own interval: the `drift_window_s` seconds up to `drift_at`."""
    drift_share: float | None = None
    """Share of drifted features; None when it could not be measured."""
    drift_status: str = "no_traffic"
    """ok | insufficient_data | no_reference | no_traffic | error (logged)."""
    drift_at: datetime | None = None
    """When the (cached) drift analysis was computed: the end of its interval."""
    firing_alerts: int = 0
    max_severity: Severity | None = None
    """The highest severity among the firing alerts."""
    ab_tests: list[ABTestSummary] = field(default_factory=list)
    rollout: RolloutSummary | None = None


@dataclass
class VersionHealth:
    """One version's traffic over its summary's interval; the figures of `ModelHealth`."""

    version: str | None
    """`vN`, or None for events logged without a version."""
    rate_s: float
    """The seconds `requests_per_s` is over (`rate_seconds`, for this version's traffic)."""
    requests: int = 0
    requests_per_s: float = 0.0
    error_rate: float | None = None
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    labelled: int = 0
    accuracy: float | None = None
    mae: float | None = None


@dataclass
class VersionsHealth:
    """One model's traffic of every environment per version over [start, end), the last
    `window_s` seconds: the Live screen's summary. Versions without requests are absent."""

    model: str
    task: Task
    window_s: float
    start: datetime
    end: datetime
    versions: list[VersionHealth] = field(default_factory=list)


def rate_seconds(start: datetime, end: datetime, began: datetime | None) -> float:
    """The seconds a rate over [start, end) divides by.

    The whole interval, unless the traffic began inside it — `began`, its first request,
    after no request in the interval's length (at most `ONSET_LOOKBACK_S`) before `start` —
    then the time since `began`, but at least `MIN_RATE_S`. So a model that started serving
    20 s ago at 150/s shows 150/s, not a third of it; a burst 50 s ago and nothing since
    shows its requests over those 50 s, falling until the burst leaves the interval (then 0);
    and one request after a long silence reads as at most 1 / `MIN_RATE_S` per second. The
    rate is always the interval's requests over a stretch that ends at `end` and holds them
    all: the figures of one line still describe the same requests."""
    window = (end - start).total_seconds()
    if began is None:
        return window
    return min(window, max((end - as_utc(began)).total_seconds(), MIN_RATE_S))


def check_window(window_s: float) -> None:
    """A summary's window: 1 s to 30 days."""
    if not math.isfinite(window_s) or window_s < 1:
        raise InvalidInput(f"the window must be at least 1 second, got {window_s:g}")
    if window_s > 30 * 86400:
        raise InvalidInput("the window must be at most 30 days")


def window_text(seconds: float) -> str:
    """An interval as the screens name it: `60 s`, `90 s`, `5 min`, `1 h`, `24 h`."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


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

    def fleet_status(self, window_s: float = WINDOW_S) -> list[ModelHealth]:
        """Every model, by name: production/staging traffic, health over the last `window_s`
        seconds of production traffic (each row names its interval), drift share over at least
        5 min (cached ~20 s), firing alerts, tests and rollout."""
        check_window(window_s)
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
        began = {
            row["model_id"]: row["first"]
            for row in self._onsets(start, end, environment=Environment.PRODUCTION.value)
        }
        drift_window_s = max(window_s, DRIFT_WINDOW_S)
        rows: list[ModelHealth] = []
        for model in models:
            row = ModelHealth(
                name=model.id, task=model.task, window_s=window_s, start=start, end=end,
                rate_s=rate_seconds(start, end, began.get(model.id)),
                drift_window_s=drift_window_s,
            )  # fmt: skip
            prod = current.get((model.id, Environment.PRODUCTION))
            staging = current.get((model.id, Environment.STAGING))
            if prod is not None:
                row.production, row.production_revision = dict(prod.traffic), prod.revision
            if staging is not None:
                row.staging, row.staging_revision = dict(staging.traffic), staging.revision
            self._health(row, model)
            self._drift(row)
            severities = firing.get(model.id, [])
            row.firing_alerts = len(severities)
            row.max_severity = max(severities, key=_SEVERITY_RANK.__getitem__, default=None)
            row.ab_tests = tests.get(model.id, [])
            row.rollout = rollouts.get(model.id)
            rows.append(row)
        return rows

    def health_by_version(
        self, model_id: str, window_s: float = WINDOW_S, end: datetime | None = None
    ) -> VersionsHealth:
        """One model's traffic per version over the last `window_s` seconds up to `end`
        (default: now), every environment's, as the Live screen charts it."""
        check_window(window_s)
        model = self.registry.get_model(model_id)
        end = as_utc(end) if end is not None else utcnow()
        start = end - timedelta(seconds=window_s)
        began = {
            row["version"]: row["first"]
            for row in self._onsets(start, end, model_id=model.id, by_version=True)
        }
        out = VersionsHealth(model.id, model.task, window_s, start, end)
        for b in self.monitor.window_by_version(model, start, end):
            number = None if b.version is None else int(b.version[1:])
            rate_s = rate_seconds(start, end, began.get(number))
            out.versions.append(VersionHealth(
                version=b.version, rate_s=rate_s, requests=b.requests,
                requests_per_s=b.requests / rate_s, error_rate=b.error_rate,
                latency_p50_ms=b.latency_p50_ms, latency_p99_ms=b.latency_p99_ms,
                labelled=b.labelled,
                accuracy=b.accuracy if model.task is Task.CLASSIFICATION else None,
                mae=b.mae if model.task is Task.REGRESSION else None,
            ))  # fmt: skip
        return out

    def _onsets(
        self,
        start: datetime,
        end: datetime,
        *,
        model_id: str | None = None,
        environment: str | None = None,
        by_version: bool = False,
    ) -> list[dict[str, Any]]:
        # Imported here: a remote client decodes this module's types without DuckDB.
        from storage.repos import onsets as onsets_repo

        lookback = timedelta(seconds=min((end - start).total_seconds(), ONSET_LOOKBACK_S))
        with self.monitor.store.read() as conn:
            return onsets_repo.onsets(
                conn, start - lookback, start, end, model_id=model_id,
                environment=environment, by_version=by_version,
            )  # fmt: skip

    def _health(self, row: ModelHealth, model: Model) -> None:
        env = Environment.PRODUCTION.value
        pooled = self.monitor.window_summary(model, row.start, row.end, environment=env)
        row.invalid = self.monitor.invalid_requests(model.id, row.start, row.end, environment=env)
        served = pooled.requests if pooled is not None else 0
        if row.invalid:
            row.invalid_rate = row.invalid / (row.invalid + served)
        elif served:
            row.invalid_rate = 0.0
        if pooled is None or not pooled.requests:
            return
        row.requests = pooled.requests
        row.requests_per_s = pooled.requests / row.rate_s
        row.error_rate = pooled.error_rate
        row.latency_p50_ms, row.latency_p99_ms = pooled.latency_p50_ms, pooled.latency_p99_ms
        row.labelled = pooled.labelled
        row.accuracy = pooled.accuracy if model.task is Task.CLASSIFICATION else None
        row.mae = pooled.mae if model.task is Task.REGRESSION else None

    def _drift(self, row: ModelHealth) -> None:
        serving = max(row.production, key=row.production.__getitem__) if row.production else None
        window = timedelta(seconds=row.drift_window_s)
        try:
            cached = self.drift.cached_drift(row.name, serving, window=window)
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
