"""Request bodies of the control API, and wrappers that document list responses.

Fields are loosely typed (`str`, `dict[str, Any]`) on purpose: the engine validates names,
statuses and metrics itself, so an HTTP caller gets the same message as the CLI would.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.domain import (
    ApiToken,
    AuditRecord,
    DeploymentRevision,
    Model,
    ModelVersion,
    TrainingJob,
)


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
