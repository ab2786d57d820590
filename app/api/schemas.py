"""Request bodies of the control API, and wrappers that document list responses: what
`app/api/operations.py` names as an operation's `body` and `doc` (with the engine's own
result types, imported here for it).

Fields are loosely typed (`str`, `dict[str, Any]`) on purpose: the engine validates names,
statuses and metrics itself, so an HTTP caller gets the same message as the CLI would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.abtesting import ABTestConfig
from core.deployments.owners import TrafficOwner
from core.domain import (
    ApiToken,
    AuditHead,
    AuditRecord,
    AuditVerification,
    DeploymentRevision,
    Model,
    ModelVersion,
    Rollout,
    TrainingJob,
)
from core.features import (
    ApplyResult,
    FeatureCatalog,
    FeatureView,
    IngestResult,
    MaterializeResult,
    OnlineFeatures,
)
from core.fleet import VersionsHealth
from core.monitoring.drift import ConceptDrift, FeatureDistribution
from core.monitoring.drift_report import DriftReport
from core.monitoring.metrics import PerformanceMetrics
from core.training.pipeline import JobDetails
from core.training.validator import ValidationResults

__all__ = [  # named by the operation table, not imported by name
    "ABTestConfig", "ApplyResult", "AuditHead", "AuditVerification", "ConceptDrift",
    "DriftReport", "FeatureCatalog", "FeatureDistribution", "FeatureView", "IngestResult",
    "JobDetails", "MaterializeResult", "OnlineFeatures", "PerformanceMetrics", "Rollout",
    "ValidationResults", "VersionsHealth",
]  # fmt: skip


class FeatureIn(BaseModel):
    name: str
    type: str = Field(description="numeric, categorical, binary or datetime")


class CreateModel(BaseModel):
    name: str = Field(description="A slug: lowercase letters, digits and hyphens.")
    task: str = Field(description="classification or regression")
    target: str | None = None
    features: list[FeatureIn] = []
    description: str = ""


class RegisterVersion(BaseModel):
    artifact_base64: str = Field(description="The skops file, base64-encoded.")
    algorithm: str
    parameters: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    description: str = ""
    parent_version: str | None = None
    training_data_hash: str | None = None
    tags: dict[str, str] = {}


class TagValue(BaseModel):
    value: str


class AliasTarget(BaseModel):
    version: str = Field(description="v3, 3 or another alias")
    reason: str = ""


class Transition(BaseModel):
    status: str
    reason: str = ""


class TriggerTraining(BaseModel):
    config: str = Field(description="Path of a training config (TOML) on the server.")
    model: str | None = None


class ValidateOn(BaseModel):
    data: str = Field(description="Path of a labelled CSV/Parquet file on the server.")


class Deploy(BaseModel):
    version: str
    reason: str = ""
    expected_revision: int | None = None


class Traffic(BaseModel):
    traffic: dict[str, float] = Field(description="{version: fraction}, summing to 1")
    reason: str = ""
    expected_revision: int | None = None


class Rollback(BaseModel):
    reason: str
    to_version: str | None = None
    to_revision: int | None = None
    dry_run: bool = False
    expected_revision: int | None = None


class StartRollout(BaseModel):
    version: str
    steps: list[float] = Field(description="Canary weights in percent, e.g. [5, 25, 50, 100]")
    interval_s: float
    guardrails: list[str] = Field(description='e.g. ["error_rate<0.02", "latency_p99_ms<50"]')
    failure_limit: int = 0
    min_samples: int = 100
    reason: str = ""


class Reason(BaseModel):
    reason: str = ""


class CreateToken(BaseModel):
    name: str
    role: str = Field(description="viewer, operator or admin")


class Split(BaseModel):
    split: dict[str, float]
    reason: str = ""


class Promote(BaseModel):
    force: bool = False
    reason: str = ""


class CreateRule(BaseModel):
    model: str
    metric: str
    comparison: str
    threshold: float
    window_s: int = 300
    for_s: int = 0
    severity: str = "warning"
    channels: list[str] | None = None
    repeat_s: int = 3600


class Ack(BaseModel):
    comment: str


class CreateSilence(BaseModel):
    rule_id: str | None = None
    model: str | None = None
    duration_s: float
    comment: str = ""


class CreatePolicy(BaseModel):
    model: str
    rule_id: str
    config_path: str
    cooldown_s: int = 3600
    canary: dict[str, Any] | None = None


class Apply(BaseModel):
    config: str = Field(description="Path of a feature definitions file (TOML) on the server.")
    dry_run: bool = False


class Ingest(BaseModel):
    data: str = Field(description="Path of a CSV/Parquet file on the server.")


class Materialize(BaseModel):
    up_to: datetime | None = Field(default=None, description="Default: now.")


class Online(BaseModel):
    features: list[str] = Field(description='["view:feature", "view:*"]')
    entities: list[dict[str, Any]] = Field(description='[{"customer_id": "c-42"}]')


class Historical(BaseModel):
    features: list[str] = Field(description='["view:feature", "view:*"]')
    timestamp: str = Field(description="The entity rows' time column.")
    entities: list[dict[str, Any]] = Field(description="Entity rows: keys, time, anything else.")


# --- documentation only: what list endpoints answer ----------------------------------------


class ModelList(BaseModel):
    models: list[Model]


class VersionList(BaseModel):
    model: str
    versions: list[ModelVersion]


class AuditList(BaseModel):
    records: list[AuditRecord]


class JobList(BaseModel):
    jobs: list[TrainingJob]


class CurrentDeployment(BaseModel):
    deployment: DeploymentRevision | None


class OwnerAnswer(BaseModel):
    owner: TrafficOwner | None


class RevisionList(BaseModel):
    revisions: list[DeploymentRevision]


class TokenList(BaseModel):
    tokens: list[ApiToken]


class NewToken(BaseModel):
    token: ApiToken
    secret: str = Field(description="Shown once; only its sha256 is stored.")


class Health(BaseModel):
    ok: bool
    pid: int


class FailedVersion(BaseModel):
    model: str
    version: str
    error: str


class Readiness(BaseModel):
    ready: bool
    pid: int
    store_open: bool
    journal_replayed: bool
    versions: int = Field(description="serving versions to load and smoke-test")
    checked: int = Field(description="of them, checked so far")
    failed: list[FailedVersion]
    took_s: float | None
    waiting_for: str | None = Field(description="what the owner still waits for; null when ready")


class WhoAmI(BaseModel):
    actor: str
    role: str
