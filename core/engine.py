"""The one engine API. The CLI, the TUI and the HTTP API call an `Engine`; none opens DuckDB.

`LocalEngine` runs in-process over the store (the owner); a remote implementation speaks
HTTP to the owner with the same methods and the same errors.
"""

from __future__ import annotations

import gc
import getpass
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from core import audit, names
from core.abtesting import ABTestConfig, ABTestingEngine, TestResults
from core.alerting import AlertManager
from core.alerting.types import Alert, Rule, Silence, Transition
from core.auth import TokenService
from core.clock import as_utc, utcnow
from core.deployments.manager import DeploymentManager
from core.deployments.owners import TrafficOwner
from core.domain import (
    ABTest,
    ApiToken,
    AuditHead,
    AuditRecord,
    AuditVerification,
    DeploymentRevision,
    Feature,
    Ingested,
    Model,
    ModelVersion,
    Prediction,
    Rollout,
    TrainingJob,
)
from core.errors import MlcError
from core.features import (
    ApplyResult,
    FeatureCatalog,
    FeatureView,
    IngestResult,
    MaterializeResult,
    OnlineFeatures,
)
from core.features.online import EntityFeatures
from core.features.service import FeatureStore
from core.fleet import WINDOW_S, FleetService, ModelHealth, VersionsHealth
from core.monitoring.alert_values import rule_values
from core.monitoring.drift import ConceptDrift, DriftDetector, FeatureDistribution
from core.monitoring.ingest import EventWriter
from core.monitoring.metrics import PerformanceMetrics, PerformanceMonitor
from core.monitoring.rollups import RollupKeeper
from core.periodic import Periodic
from core.registry import ModelRegistry, NewVersion
from core.retrain import RetrainPolicies, RetrainPolicy
from core.rollout.controller import RolloutController
from core.serving.gateway import PredictionService
from core.serving.readiness import Readiness
from core.stats.drift import DriftAnalysis
from core.training.pipeline import JobDetails, TrainingPipeline
from core.training.validator import ValidationResults
from storage.artifacts import ArtifactStore
from storage.store import Store

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger(__name__)


class Engine(Protocol):
    """Every operation mlc offers. Mutations are audited under the engine's actor."""

    actor: str
    owns_store: bool
    """True when this process is the store's owner (jobs die with it)."""

    def create_model(
        self,
        name: str,
        task: str,
        *,
        target: str | None = None,
        features: list[Feature] | None = None,
        description: str = "",
    ) -> Model: ...

    def list_models(self) -> list[Model]: ...

    def get_model(self, name: str) -> Model: ...

    def register_version(
        self,
        model: str,
        artifact: bytes,
        *,
        algorithm: str,
        parameters: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        description: str = "",
        parent_version: str | None = None,
        training_data_hash: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> ModelVersion: ...

    def list_versions(self, model: str) -> list[ModelVersion]: ...

    def get_version(self, model: str, ref: str) -> ModelVersion: ...

    def tag_version(self, model: str, ref: str, key: str, value: str) -> ModelVersion: ...

    def set_alias(self, model: str, ref: str, alias: str, *, reason: str = "") -> ModelVersion: ...

    def transition_version(
        self, model: str, ref: str, status: str, *, reason: str = ""
    ) -> ModelVersion: ...

    def list_audit(
        self,
        *,
        model: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]: ...

    def verify_audit(self, *, head: AuditHead | None = None) -> AuditVerification:
        """Check the chain, the key and `audit.head`, and that the log still leads through
        `head` (one taken earlier with `audit_head`, e.g. kept off the host)."""
        ...

    def audit_head(self) -> AuditHead:
        """The newest audit record's (seq, hash), to anchor off the host."""
        ...

    def trigger_training(self, config: str | Path, *, model: str | None = None) -> TrainingJob: ...

    def get_training_status(self, job_id: str) -> TrainingJob: ...

    def list_jobs(self, *, model: str | None = None, limit: int = 50) -> list[TrainingJob]: ...

    def job_details(self, job_id: str, *, after_log: int = 0) -> JobDetails: ...

    def cancel_training(self, job_id: str) -> TrainingJob: ...

    def validate_model(self, model: str, version: str, data: str | Path) -> ValidationResults: ...

    # --- deployments (per model and environment, a revision history of traffic maps) ---

    def deploy(
        self,
        model: str,
        version: str,
        *,
        environment: str = "production",
        reason: str = "",
        expected_revision: int | None = None,
    ) -> DeploymentRevision: ...

    def set_traffic(
        self,
        model: str,
        traffic: dict[str, float],
        *,
        environment: str = "production",
        reason: str = "",
        expected_revision: int | None = None,
    ) -> DeploymentRevision:
        """`traffic` is `{version: fraction}` summing to 1."""
        ...

    def get_deployment(
        self, model: str, *, environment: str = "production"
    ) -> DeploymentRevision | None: ...

    def deployment_history(
        self, model: str, *, environment: str | None = None
    ) -> list[DeploymentRevision]: ...

    def traffic_owner(self, model: str, *, environment: str = "production") -> TrafficOwner | None:
        """The running A/B test or active rollout owning this traffic, if any: a deploy,
        traffic change, rollback or rollout by anyone else ends it as interrupted."""
        ...

    def rollback(
        self,
        model: str,
        *,
        environment: str = "production",
        to_version: str | None = None,
        to_revision: int | None = None,
        reason: str,
        dry_run: bool = False,
        expected_revision: int | None = None,
    ) -> DeploymentRevision: ...

    # --- progressive rollouts -----------------------------------------------------------

    def start_rollout(
        self,
        model: str,
        version: str,
        *,
        environment: str = "production",
        steps: list[float],
        interval_s: float,
        guardrails: list[str],
        failure_limit: int = 0,
        min_samples: int = 100,
        reason: str = "",
    ) -> Rollout: ...

    def get_rollout(self, model: str, *, environment: str = "production") -> Rollout: ...

    def pause_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout: ...

    def resume_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout: ...

    def promote_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout: ...

    def abort_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout: ...

    # --- data plane ---------------------------------------------------------------------

    def predict(
        self, model: str, requests: list[dict[str, Any]], *, environment: str = "production"
    ) -> list[Prediction]:
        """Each request: `{"features": {...}, "request_id"?: str, "unit_id"?: str}`."""
        ...

    def log_events(self, model: str, events: list[dict[str, Any]] | bytes) -> Ingested:
        """Log-only prediction events from an external server (a list, or its raw JSON);
        says how many were received and how many were new (a request id stored before, or
        twice in the batch, is stored once)."""
        ...

    def record_actuals(self, model: str, actuals: list[dict[str, Any]]) -> Ingested:
        """Late labels: `[{"request_id", "actual"}]`; says how many were received and new."""
        ...

    # --- API tokens ---------------------------------------------------------------------

    def create_token(self, name: str, role: str) -> tuple[ApiToken, str]:
        """The token record and its secret, which is shown once and stored only hashed."""
        ...

    def get_performance_metrics(
        self,
        model: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        bucket_s: int = 60,
        version: str | None = None,
    ) -> PerformanceMetrics:
        """Per time bucket and version, from `start` (default: the last hour) to `end`."""
        ...

    def detect_drift(
        self,
        model: str,
        *,
        version: str | None = None,
        window_s: float = 3600,
        min_current: int = 100,
        end: datetime | None = None,
    ) -> DriftReport:
        """A version's `window_s` of traffic up to `end` (default: now) against its training
        reference (default version: the one serving most of production)."""
        ...

    def detect_concept_drift(
        self, model: str, *, version: str | None = None, window_s: float = 86400
    ) -> ConceptDrift:
        """ADWIN and Page–Hinkley change points in the labelled error stream."""
        ...

    def feature_distribution(
        self,
        model: str,
        feature: str,
        *,
        version: str | None = None,
        window_s: float = 3600,
        bins: int = 20,
        end: datetime | None = None,
    ) -> FeatureDistribution:
        """One feature's training reference next to its `window_s` of traffic up to `end`
        (default: now; numeric: common bins; categorical: top categories and `__other__`),
        with its drift verdict. A screen showing both passes the drift report's `end` here,
        so the two count the same events."""
        ...

    # --- the fleet at a glance ------------------------------------------------------------

    def fleet_status(self, window_s: float = WINDOW_S) -> list[ModelHealth]:
        """Every model: production/staging traffic, health over the last `window_s` of
        production traffic (each row names its interval), drift share over at least 5 min
        (cached ~20 s), firing alerts, tests and rollout."""
        ...

    def health_by_version(
        self, model: str, *, window_s: float = WINDOW_S, end: datetime | None = None
    ) -> VersionsHealth:
        """One model's traffic per version over the last `window_s` seconds up to `end`
        (default: now), every environment's: requests/s, errors, latency, quality."""
        ...

    # --- alerting -------------------------------------------------------------------------

    def create_alert_rule(
        self,
        model: str,
        metric: str,
        comparison: str,
        threshold: float,
        *,
        window_s: int = 300,
        for_s: int = 0,
        severity: str = "warning",
        channels: list[str] | None = None,
        repeat_s: int = 3600,
    ) -> Rule: ...

    def list_alert_rules(self, *, model: str | None = None) -> list[Rule]: ...

    def set_alert_rule_active(self, rule_id: str, active: bool, *, reason: str = "") -> Rule: ...

    def delete_alert_rule(self, rule_id: str, *, reason: str = "") -> Rule: ...

    def list_alerts(
        self, *, state: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Alert]: ...

    def alert_history(
        self, *, alert_id: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Transition]: ...

    def ack_alert(self, alert_id: str, comment: str) -> Alert: ...

    def silence_alerts(
        self,
        *,
        rule_id: str | None = None,
        model: str | None = None,
        duration_s: float,
        comment: str = "",
    ) -> Silence: ...

    def list_silences(self, *, active_only: bool = False) -> list[Silence]: ...

    def expire_silence(self, silence_id: str, *, reason: str = "") -> Silence: ...

    def evaluate_alerts(self) -> list[Transition]: ...

    # --- A/B tests --------------------------------------------------------------------------

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

    def create_retrain_policy(
        self,
        model: str,
        rule_id: str,
        config_path: str,
        *,
        cooldown_s: int = 3600,
        canary: dict[str, Any] | None = None,
    ) -> RetrainPolicy:
        """When `rule_id` fires for `model`, train `config_path` (then, optionally, a canary)."""
        ...

    def list_retrain_policies(self, *, model: str | None = None) -> list[RetrainPolicy]: ...

    def delete_retrain_policy(self, policy_id: str) -> RetrainPolicy: ...

    def list_tokens(self) -> list[ApiToken]: ...

    def revoke_token(self, token: str) -> ApiToken:
        """Revoke by id or name."""
        ...

    # --- feature store --------------------------------------------------------------------

    def apply_features(self, config: str | Path, *, dry_run: bool = False) -> ApplyResult:
        """Create or update the entities and feature views of a definitions file (TOML, read
        by the owner); a change that is not compatible refuses the whole file."""
        ...

    def feature_catalog(self) -> FeatureCatalog:
        """Every entity and feature view, with its state."""
        ...

    def get_feature_view(self, name: str, *, version: int | None = None) -> FeatureView:
        """A view (as now, or as `version` defined it) with its version history."""
        ...

    def ingest_features(self, view: str, data: str | Path) -> IngestResult:
        """Append a CSV/Parquet file (read by the owner) to a store view: all rows or none."""
        ...

    def materialize_features(
        self, view: str, *, up_to: datetime | None = None
    ) -> MaterializeResult:
        """Keep the latest value per entity as of `up_to` (default: now) for serving."""
        ...

    def get_historical_features(
        self, entities: pl.DataFrame, features: list[str], *, timestamp: str
    ) -> pl.DataFrame:
        """Each entity row with `features` (`view:feature`, `view:*`) as they were at its
        `timestamp`: point-in-time correct, TTL honoured."""
        ...

    def get_online_features(
        self, features: list[str], entities: list[dict[str, Any]]
    ) -> OnlineFeatures:
        """The materialized values of `features` for these entities (`{join_key: value}`)."""
        ...

    def close(self) -> None: ...


def default_actor() -> str:
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local:unknown"


@dataclass
class DriftReport:
    model_id: str
    version: str
    window_s: float
    analysis: DriftAnalysis
    end: datetime | None = None
    """Where the analysed window ends (UTC, the owner's clock): pass it to
    `feature_distribution` to count the same events."""


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _training_workers() -> int:
    # One job at a time by default: a search already keeps a core busy, and two cores are common.
    try:
        return max(1, int(os.environ.get("MLC_TRAINING_WORKERS", "1")))
    except ValueError:
        return 1


@names.checks_reasons
class LocalEngine:
    """The engine over an open store, in this process. Every reason and comment it is given
    is checked first (`names.checks_reasons`)."""

    owns_store = True

    def __init__(self, store: Store, *, actor: str | None = None) -> None:
        self.store = store
        self.actor = actor or default_actor()
        self.artifacts = ArtifactStore(store.artifacts_dir)
        self.registry = ModelRegistry(store, self.artifacts)
        self.features = FeatureStore(store)
        self.training = TrainingPipeline(
            store, self.registry, max_workers=_training_workers(), features=self.features
        )
        try:
            self.writer = EventWriter(store)
            self.deployments = DeploymentManager(store, self.registry)
            self.serving = PredictionService(
                self.registry, self.deployments, self.writer,
                entity_features=EntityFeatures(self.features, self.registry),
            )  # fmt: skip
            self.deployments.set_preflight(self.serving.preflight)
            self.rollouts = RolloutController(store, self.registry, self.deployments)
            self.monitor = PerformanceMonitor(store, self.registry, self.writer)
            self.rollups = RollupKeeper(
                store,
                lambda: [m.id for m in self.registry.list_models()],
                self.monitor.positive_class,
            )
            self.abtests = ABTestingEngine(store, self.registry, self.deployments)
            # Auto-promotion, guardrail stops and maximum durations of running A/B tests.
            self._ab_loop: Periodic | None = None
            self.drift = DriftDetector(store, self.registry, self.deployments)
            self.alerts = AlertManager(store)
            self.retrain = RetrainPolicies(
                store, alerts=self.alerts, training=self.training, rollouts=self.rollouts,
                registry=self.registry,
            )  # fmt: skip
            self.tokens = TokenService(store)
            self.readiness = Readiness()
            """Ready at once, unless `start_warmup` (a serving owner's start) is under way."""
            self.fleet = FleetService(
                self.registry, self.deployments, self.monitor, self.drift, self.alerts,
                self.abtests, self.rollouts,
            )  # fmt: skip
        except BaseException:  # nothing of a half-built engine keeps running
            if (writer := getattr(self, "writer", None)) is not None:
                writer.close()
            self.training.close()
            raise

    @classmethod
    def open(cls, home: Path, *, actor: str | None = None, wait_s: float = 2.0) -> Self:
        store = Store.open(home, wait_s=wait_s)
        try:
            return cls(store, actor=actor)
        except BaseException:  # e.g. the event journal could not be replayed
            store.close()
            raise

    def as_actor(self, actor: str) -> LocalEngine:
        """The same engine acting for someone else (an API token, a controller loop)."""
        other = LocalEngine.__new__(LocalEngine)
        other.__dict__.update(self.__dict__)
        other.actor = actor
        return other

    # --- registry -----------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        task: str,
        *,
        target: str | None = None,
        features: list[Feature] | None = None,
        description: str = "",
    ) -> Model:
        return self.registry.create_model(
            name, task, actor=self.actor, target=target, features=features,
            description=description,
        )  # fmt: skip

    def list_models(self) -> list[Model]:
        return self.registry.list_models()

    def get_model(self, name: str) -> Model:
        return self.registry.get_model(name)

    def register_version(
        self,
        model: str,
        artifact: bytes,
        *,
        algorithm: str,
        parameters: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        description: str = "",
        parent_version: str | None = None,
        training_data_hash: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        new = NewVersion(
            algorithm=algorithm,
            parameters=parameters or {},
            performance_metrics=metrics or {},
            training_data_hash=training_data_hash,
            parent_version=parent_version,
            description=description,
            tags=tuple((tags or {}).items()),
        )
        return self.registry.register_version(model, artifact, new, actor=self.actor)

    def list_versions(self, model: str) -> list[ModelVersion]:
        return self.registry.list_versions(model)

    def get_version(self, model: str, ref: str) -> ModelVersion:
        return self.registry.get_version(model, ref)

    def tag_version(self, model: str, ref: str, key: str, value: str) -> ModelVersion:
        return self.registry.tag_version(model, ref, key, value, actor=self.actor)

    def set_alias(self, model: str, ref: str, alias: str, *, reason: str = "") -> ModelVersion:
        return self.registry.set_alias(model, ref, alias, actor=self.actor, reason=reason)

    def transition_version(
        self, model: str, ref: str, status: str, *, reason: str = ""
    ) -> ModelVersion:
        return self.registry.transition(model, ref, status, actor=self.actor, reason=reason)

    # --- audit --------------------------------------------------------------------------

    def list_audit(
        self,
        *,
        model: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        with self.store.read() as conn:
            return audit.query(conn, model_id=model, action=action, since=since, limit=limit)

    def verify_audit(self, *, head: AuditHead | None = None) -> AuditVerification:
        with self.store.read() as conn:
            return audit.verify_all(conn, anchor=head)

    def audit_head(self) -> AuditHead:
        with self.store.read() as conn:
            return audit.head(conn)

    # --- training -----------------------------------------------------------------------

    def trigger_training(self, config: str | Path, *, model: str | None = None) -> TrainingJob:
        return self.training.trigger_training(config, model=model, actor=self.actor)

    def get_training_status(self, job_id: str) -> TrainingJob:
        return self.training.get_training_status(job_id)

    def list_jobs(self, *, model: str | None = None, limit: int = 50) -> list[TrainingJob]:
        return self.training.list_jobs(model, limit)

    def job_details(self, job_id: str, *, after_log: int = 0) -> JobDetails:
        return self.training.job_details(job_id, after_log)

    def cancel_training(self, job_id: str) -> TrainingJob:
        return self.training.cancel_training(job_id, actor=self.actor)

    def validate_model(self, model: str, version: str, data: str | Path) -> ValidationResults:
        return self.training.validate_model(model, version, data)

    # --- deployments, rollouts, data plane (serving) ------------------------------------

    def deploy(
        self,
        model: str,
        version: str,
        *,
        environment: str = "production",
        reason: str = "",
        expected_revision: int | None = None,
    ) -> DeploymentRevision:
        return self.deployments.deploy(
            model, version, environment, actor=self.actor, reason=reason,
            expected_revision=expected_revision,
        )  # fmt: skip

    def set_traffic(
        self,
        model: str,
        traffic: dict[str, float],
        *,
        environment: str = "production",
        reason: str = "",
        expected_revision: int | None = None,
    ) -> DeploymentRevision:
        return self.deployments.set_traffic(
            model, traffic, environment, actor=self.actor, reason=reason,
            expected_revision=expected_revision,
        )  # fmt: skip

    def get_deployment(
        self, model: str, *, environment: str = "production"
    ) -> DeploymentRevision | None:
        return self.deployments.current(model, environment)

    def deployment_history(
        self, model: str, *, environment: str | None = None
    ) -> list[DeploymentRevision]:
        return self.deployments.history(model, environment)

    def traffic_owner(self, model: str, *, environment: str = "production") -> TrafficOwner | None:
        return self.deployments.traffic_owner(model, environment)

    def rollback(
        self,
        model: str,
        *,
        environment: str = "production",
        to_version: str | None = None,
        to_revision: int | None = None,
        reason: str,
        dry_run: bool = False,
        expected_revision: int | None = None,
    ) -> DeploymentRevision:
        return self.deployments.rollback(
            model, environment, actor=self.actor, reason=reason, to_version=to_version,
            to_revision=to_revision, dry_run=dry_run, expected_revision=expected_revision,
        )  # fmt: skip

    def start_rollout(
        self,
        model: str,
        version: str,
        *,
        environment: str = "production",
        steps: list[float],
        interval_s: float,
        guardrails: list[str],
        failure_limit: int = 0,
        min_samples: int = 100,
        reason: str = "",
    ) -> Rollout:
        return self.rollouts.start(
            model, version, environment, steps=steps, interval_s=interval_s,
            guardrails=guardrails, failure_limit=failure_limit, min_samples=min_samples,
            actor=self.actor, reason=reason,
        )  # fmt: skip

    def get_rollout(self, model: str, *, environment: str = "production") -> Rollout:
        return self.rollouts.get(model, environment)

    def pause_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self.rollouts.pause(model, environment, actor=self.actor, reason=reason)

    def resume_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self.rollouts.resume(model, environment, actor=self.actor, reason=reason)

    def promote_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self.rollouts.promote(model, environment, actor=self.actor, reason=reason)

    def abort_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self.rollouts.abort(model, environment, actor=self.actor, reason=reason)

    def predict(
        self, model: str, requests: list[dict[str, Any]], *, environment: str = "production"
    ) -> list[Prediction]:
        return self.serving.predict(model, requests, environment)

    def count_invalid(self, model: str, environment: str, items: int, error: MlcError) -> None:
        """Count a prediction request refused before it reached the engine (a body that is
        not JSON, too large, or not a list of objects): invalid input, charged to no version."""
        self.serving.refused(model, environment, items, error)

    def predict_at_once(
        self, model: str, requests: list[Any], *, environment: str = "production"
    ) -> list[Prediction] | None:
        """For the server hosting this engine, on its event loop: `predict` when that cannot
        block for long (no store read, no model load, a few ms at most), else None with
        nothing written (`PredictionService.predict_at_once`)."""
        return self.serving.predict_at_once(model, environment, requests)

    def log_events(
        self, model: str, events: list[dict[str, Any]] | bytes, *, max_items: int = 10_000
    ) -> Ingested:
        return self.serving.log_events(model, events, max_items=max_items)

    def record_actuals(self, model: str, actuals: list[dict[str, Any]]) -> Ingested:
        return self.serving.record_actuals(model, actuals)

    # --- monitoring -----------------------------------------------------------------------

    def get_performance_metrics(
        self,
        model: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        bucket_s: int = 60,
        version: str | None = None,
    ) -> PerformanceMetrics:
        span = (start, end or utcnow()) if start is not None else None
        return self.monitor.get_performance_metrics(model, span, bucket_s=bucket_s, version=version)

    def detect_drift(
        self,
        model: str,
        *,
        version: str | None = None,
        window_s: float = 3600,
        min_current: int = 100,
        end: datetime | None = None,
    ) -> DriftReport:
        end = as_utc(end) if end is not None else utcnow()
        analysed, analysis = self.drift.detect_drift(
            model, version, window=timedelta(seconds=window_s), end=end, min_current=min_current
        )
        return DriftReport(model, analysed, window_s, analysis, end)

    def detect_concept_drift(
        self, model: str, *, version: str | None = None, window_s: float = 86400
    ) -> ConceptDrift:
        return self.drift.concept_drift(model, version, window=timedelta(seconds=window_s))

    def feature_distribution(
        self,
        model: str,
        feature: str,
        *,
        version: str | None = None,
        window_s: float = 3600,
        bins: int = 20,
        end: datetime | None = None,
    ) -> FeatureDistribution:
        """One feature's training reference next to its `window_s` of traffic up to `end`."""
        return self.drift.feature_distribution(
            model, feature, version, window=timedelta(seconds=window_s), bins=bins, end=end
        )

    def fleet_status(self, window_s: float = WINDOW_S) -> list[ModelHealth]:
        """Every model's traffic and health over the last `window_s` seconds (core/fleet.py)."""
        return self.fleet.fleet_status(window_s)

    def health_by_version(
        self, model: str, *, window_s: float = WINDOW_S, end: datetime | None = None
    ) -> VersionsHealth:
        return self.fleet.health_by_version(model, window_s, end)

    # --- alerting -------------------------------------------------------------------------

    def create_alert_rule(
        self,
        model: str,
        metric: str,
        comparison: str,
        threshold: float,
        *,
        window_s: int = 300,
        for_s: int = 0,
        severity: str = "warning",
        channels: list[str] | None = None,
        repeat_s: int = 3600,
    ) -> Rule:
        return self.alerts.create_rule(
            model, metric, comparison, threshold, window_s=window_s, for_s=for_s,
            severity=severity, channels=channels, repeat_s=repeat_s, actor=self.actor,
        )  # fmt: skip

    def list_alert_rules(self, *, model: str | None = None) -> list[Rule]:
        return self.alerts.list_rules(model)

    def set_alert_rule_active(self, rule_id: str, active: bool, *, reason: str = "") -> Rule:
        return self.alerts.set_active(rule_id, active, actor=self.actor, reason=reason)

    def delete_alert_rule(self, rule_id: str, *, reason: str = "") -> Rule:
        return self.alerts.delete_rule(rule_id, actor=self.actor, reason=reason)

    def list_alerts(
        self, *, state: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Alert]:
        return self.alerts.list_alerts(state, model, limit=limit)

    def alert_history(
        self, *, alert_id: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Transition]:
        return self.alerts.history(alert_id, model, limit=limit)

    def ack_alert(self, alert_id: str, comment: str) -> Alert:
        return self.alerts.ack(alert_id, comment, actor=self.actor)

    def silence_alerts(
        self,
        *,
        rule_id: str | None = None,
        model: str | None = None,
        duration_s: float,
        comment: str = "",
    ) -> Silence:
        return self.alerts.silence(
            rule_id=rule_id, model_id=model, duration_s=duration_s, comment=comment,
            actor=self.actor,
        )  # fmt: skip

    def list_silences(self, *, active_only: bool = False) -> list[Silence]:
        return self.alerts.list_silences(active_only=active_only)

    def expire_silence(self, silence_id: str, *, reason: str = "") -> Silence:
        return self.alerts.expire_silence(silence_id, actor=self.actor, reason=reason)

    def create_retrain_policy(
        self,
        model: str,
        rule_id: str,
        config_path: str,
        *,
        cooldown_s: int = 3600,
        canary: dict[str, Any] | None = None,
    ) -> RetrainPolicy:
        return self.retrain.create(
            model, rule_id, config_path, cooldown_s=cooldown_s, canary=canary, actor=self.actor
        )

    def list_retrain_policies(self, *, model: str | None = None) -> list[RetrainPolicy]:
        return self.retrain.list(model)

    def delete_retrain_policy(self, policy_id: str) -> RetrainPolicy:
        return self.retrain.delete(policy_id, actor=self.actor)

    def evaluate_alerts(self) -> list[Transition]:
        """One evaluation pass now (the owner also runs one on a schedule)."""
        transitions = self.alerts.evaluate(rule_values(self.store, self.registry, self.drift))
        return transitions

    # --- A/B tests --------------------------------------------------------------------------

    def create_ab_test(self, config: ABTestConfig, *, reason: str = "") -> ABTest:
        return self.abtests.create_ab_test(config, actor=self.actor, reason=reason)

    def list_ab_tests(self, *, model: str | None = None) -> list[ABTest]:
        return self.abtests.list_tests(model)

    def get_ab_test(self, test_id: str) -> ABTest:
        return self.abtests.get(test_id)

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

    def analyze_test_results(self, test_id: str) -> TestResults:
        return self.abtests.analyze_test_results(test_id)

    def promote_winner(
        self, test_id: str, *, force: bool = False, reason: str = ""
    ) -> DeploymentRevision:
        return self.abtests.promote_winner(test_id, actor=self.actor, force=force, reason=reason)

    # --- background loops of a long-lived owner (mlc serve, mlc console) ----------------

    def start_background(self, *, freeze_gc: bool = False) -> None:
        """Start the owner's loops and load every deployed model. With `freeze_gc` (for a
        process that serves from now on), then take everything alive out of the garbage
        collector's reach.

        A serving owner holds a few million objects (scikit-learn, Polars, FastAPI, the
        models) that never become garbage, yet every older-generation collection walks them
        all: they paused requests by up to 8 ms (generation 1) and 146 ms (generation 2),
        measured in `mlc serve`. After `gc.freeze()` collections see only the objects made
        since (generation 1 at most ~1 ms). Not for short-lived or test processes: an object
        frozen while alive is never collected if it later dies in a reference cycle."""

        if getattr(self, "_warm_all", None) is None:
            self.start_warmup(freeze_gc=freeze_gc)
        self.alerts.start_loop(
            rule_values(self.store, self.registry, self.drift),
            every_s=_env_float("MLC_ALERT_EVAL_S", 15.0),
        )
        tick_s = _env_float("MLC_CONTROLLER_TICK_S", 1.0)
        self.rollouts.start_loop(every_s=tick_s)
        self.rollups.start_loop(every_s=_env_float("MLC_ROLLUP_S", 10.0))
        if self._ab_loop is None:
            self._ab_loop = Periodic("mlc-abtests", self.abtests.tick, max(tick_s, 5.0))
            self._ab_loop.start()

    def start_warmup(self, *, freeze_gc: bool = False) -> None:
        """Load and smoke-test every serving version in a thread; `readiness` says when it
        is done (not ready from this call on). `freeze_gc`: see `start_background`."""

        def warm() -> None:
            self.readiness.warm(self.serving, self.deployments)
            self.serving.warm_all()  # the routes; every version is loaded by now
            if freeze_gc:
                gc.collect()
                gc.freeze()

        self.readiness.begin()
        self._warm_all = threading.Thread(target=warm, name="mlc-warm", daemon=True)
        self._warm_all.start()

    def stop_background(self) -> None:
        if getattr(self, "_ab_loop", None) is not None:
            self._ab_loop.stop()
            self._ab_loop = None
        self.rollouts.stop_loop()
        self.rollups.stop_loop()
        self.alerts.stop_loop()

    # --- API tokens (core/auth.py) ------------------------------------------------------

    def create_token(self, name: str, role: str) -> tuple[ApiToken, str]:
        return self.tokens.create(name, role, actor=self.actor)

    def list_tokens(self) -> list[ApiToken]:
        return self.tokens.list()

    def revoke_token(self, token: str) -> ApiToken:
        return self.tokens.revoke(token, actor=self.actor)

    # --- feature store (core/features) -----------------------------------------------------

    def apply_features(self, config: str | Path, *, dry_run: bool = False) -> ApplyResult:
        return self.features.apply(config, actor=self.actor, dry_run=dry_run)

    def feature_catalog(self) -> FeatureCatalog:
        return self.features.catalog()

    def get_feature_view(self, name: str, *, version: int | None = None) -> FeatureView:
        return self.features.view(name, version)

    def ingest_features(self, view: str, data: str | Path) -> IngestResult:
        return self.features.ingest(view, data, actor=self.actor)

    def materialize_features(
        self, view: str, *, up_to: datetime | None = None
    ) -> MaterializeResult:
        return self.features.materialize(view, up_to=up_to, actor=self.actor)

    def get_historical_features(
        self, entities: pl.DataFrame, features: list[str], *, timestamp: str
    ) -> pl.DataFrame:
        return self.features.historical(entities, features, timestamp=timestamp)

    def get_online_features(
        self, features: list[str], entities: list[dict[str, Any]]
    ) -> OnlineFeatures:
        return self.features.online(features, entities)

    def close(self) -> None:
        if self.store.closed:
            return
        self.stop_background()
        if getattr(self, "_warm_all", None) is not None:
            self._warm_all.join(timeout=30)
        self.serving.close()
        self.drift.close()
        self.alerts.close()
        self.writer.close()
        try:
            self.training.close()
        finally:
            self.store.close()
