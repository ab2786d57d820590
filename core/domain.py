"""Domain types: plain dataclasses and enums, no I/O.

Names follow the seed design (`ModelVersion`, `ABTest`, `PerformanceMetric`, `AlertRule`,
`ComparisonOperator`); identifiers are strings so they read well in logs and URLs.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Task(StrEnum):
    CLASSIFICATION = "classification"
    REGRESSION = "regression"


class FeatureType(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BINARY = "binary"
    DATETIME = "datetime"


class ModelStatus(StrEnum):
    REGISTERED = "registered"
    """Stored but not yet validated: cannot be deployed."""
    VALIDATED = "validated"
    REJECTED = "rejected"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"


class TrainingStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (TrainingStatus.SUCCEEDED, TrainingStatus.FAILED, TrainingStatus.CANCELLED)


class TestStatus(StrEnum):
    __test__ = False  # not a pytest test class, despite the name

    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    """Ended by someone else's change to the traffic it owned (a deploy, a traffic change, a
    rollback, a rollout): it never writes traffic again."""


class Environment(StrEnum):
    STAGING = "staging"
    PRODUCTION = "production"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertState(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    INACTIVE = "inactive"
    """A pending alert whose condition cleared before its for-duration."""

    @property
    def open(self) -> bool:
        return self in (AlertState.PENDING, AlertState.FIRING)


_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


class ComparisonOperator(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="

    def compare(self, value: float, threshold: float) -> bool:
        """`value <op> threshold`; NaN never satisfies a rule."""
        if math.isnan(value) or math.isnan(threshold):
            return False
        return _OPERATORS[self.value](value, threshold)


@dataclass(frozen=True)
class Feature:
    name: str
    type: FeatureType


@dataclass
class Model:
    id: str
    """The model's name: a slug, never renamed."""
    task: Task
    target: str | None
    features: list[Feature]
    description: str
    created_at: datetime
    created_by: str
    version_count: int = 0
    latest_version: str | None = None

    @property
    def name(self) -> str:
        return self.id


@dataclass
class ModelVersion:
    id: str
    """`<model>:v<number>`."""
    model_id: str
    version: str
    """`v<number>`."""
    number: int
    algorithm: str
    parameters: dict[str, Any]
    training_data_hash: str | None
    performance_metrics: dict[str, float]
    status: ModelStatus
    created_at: datetime
    created_by: str
    artifact_sha256: str
    artifact_size: int
    signature: dict[str, Any]
    training_job_id: str | None = None
    parent_version: str | None = None
    description: str = ""
    status_reason: str = ""
    status_changed_at: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    training: dict[str, Any] | None = None
    """For trained versions: the config, seed, data, search summary, features and timings."""
    validation: dict[str, Any] | None = None
    """For trained versions: holdout metrics, each gate's verdict and reason, the champion."""


@dataclass
class TrainingJob:
    id: str
    model_id: str
    status: TrainingStatus
    created_at: datetime
    config: dict[str, Any]
    progress: float = 0.0
    message: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    result_version: str | None = None
    outcome: str | None = None
    """`validated` or `rejected` once the job has succeeded."""
    trials_done: int = 0
    trials_total: int = 0
    best_score: float | None = None
    actor: str | None = None
    config_path: str | None = None


@dataclass
class DeploymentRevision:
    model_id: str
    environment: Environment
    revision: int
    traffic: dict[str, float]
    """`{version: weight}`; weights are finite, non-negative and sum to 1."""
    actor: str
    reason: str
    created_at: datetime
    kind: str = "deploy"
    """deploy | traffic | rollback | rollout | abort | promote | ab-test."""
    healthy: bool = True
    """False once this traffic map was rolled back from or aborted: never a rollback target."""


class RolloutStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ABORTED = "aborted"
    INTERRUPTED = "interrupted"
    """Ended by someone else's change to the traffic it owned: it never writes traffic again."""

    @property
    def active(self) -> bool:
        return self in (RolloutStatus.RUNNING, RolloutStatus.PAUSED)


@dataclass
class Rollout:
    id: str
    model_id: str
    environment: Environment
    canary_version: str
    stable_traffic: dict[str, float]
    """The traffic map before the rollout: what an abort restores."""
    steps: list[float]
    """Canary weights in percent, e.g. [5, 25, 50, 100]."""
    step_index: int
    """Index into `steps` of the weight now serving; -1 before the first step."""
    interval_s: float
    guardrails: list[str]
    failure_limit: int
    min_samples: int
    status: RolloutStatus
    started_at: datetime
    step_started_at: datetime
    actor: str
    reason: str = ""
    failures: int = 0
    analyses: list[dict[str, Any]] = field(default_factory=list)
    """One entry per guardrail check: step, time, per-guardrail value, samples and verdict."""

    @property
    def canary_weight(self) -> float:
        return self.steps[self.step_index] if self.step_index >= 0 else 0.0


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


@dataclass
class ApiToken:
    id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass
class Prediction:
    """One answered prediction request."""

    request_id: str
    version: str
    prediction: Any
    latency_ms: float
    probabilities: dict[str, float] | None = None
    error: str | None = None
    """Why the version could not answer (its error's class and message); `prediction` is
    then None. Only a batch answers failed items: a lone failed request raises."""


@dataclass
class Ingested:
    """What a batch of log-only events or actuals added: `received` rows, of which `new` had
    a request id not stored before nor earlier in the batch; the `duplicates` add nothing."""

    received: int
    new: int
    duplicates: int = field(init=False)

    def __post_init__(self) -> None:
        self.duplicates = self.received - self.new


@dataclass
class ABTest:
    id: str
    name: str
    model_id: str
    model_versions: list[str]
    traffic_split: dict[str, float]
    success_metrics: list[str]
    status: TestStatus
    created_at: datetime
    results: dict[str, Any] | None = None
    environment: Environment = Environment.PRODUCTION
    reason: str = ""
    """Why it is in its status once it has ended (stop reason, promotion, what interrupted
    it); the creation reason before that."""
    ended_at: datetime | None = None


@dataclass
class PerformanceMetric:
    id: str
    model_id: str
    metric_name: str
    value: float
    timestamp: datetime
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class AlertRule:
    """The seed's alert rule, plus what the evaluator needs (`repeat_s`) and provenance."""

    id: str
    model_id: str
    metric_name: str
    threshold: float
    comparison: ComparisonOperator
    notification_channels: list[str]
    is_active: bool = True
    window_s: int = 300
    for_s: int = 0
    severity: Severity = Severity.WARNING
    repeat_s: int = 3600
    """Seconds between repeated notifications of a firing, unacknowledged alert; 0: never."""
    created_at: datetime | None = None
    created_by: str = ""

    @property
    def is_event_rule(self) -> bool:
        """`event.<kind>` rules route system events; they are not evaluated against values."""
        return self.metric_name.startswith("event.")


@dataclass
class AuditRecord:
    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    model_id: str | None
    before: Any
    after: Any
    reason: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditHead:
    """The newest audit record, as `mlc audit head` prints it (`SEQ:HASH`) for anchoring off
    the host; `mlc audit verify --head SEQ:HASH` checks the log still leads through it."""

    seq: int
    hash: str
    at: datetime | None = None

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    truncated_after: int | None = None
    """Set when the log ends before the record a head (`audit.head`, or one given) names."""
    keyed_from: int | None = None
    """The first record sealed with the store's key; those before it were written by an mlc
    without keys and are checked by their unkeyed chain."""
    head: AuditHead | None = None
    """The newest record checked (None for an empty log)."""
