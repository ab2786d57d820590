"""The one engine API. The CLI, the TUI and the HTTP API call an `Engine`; none opens DuckDB.

`LocalEngine` runs in-process over the store (the owner); a remote implementation speaks
HTTP to the owner with the same methods and the same errors.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, Self

from core import audit
from core.domain import (
    AuditRecord,
    AuditVerification,
    Feature,
    Model,
    ModelVersion,
    TrainingJob,
)
from core.registry import ModelRegistry, NewVersion
from core.training.pipeline import JobDetails, TrainingPipeline
from core.training.validator import ValidationResults
from storage.artifacts import ArtifactStore
from storage.store import Store


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

    def verify_audit(self) -> AuditVerification: ...

    def trigger_training(self, config: str | Path, *, model: str | None = None) -> TrainingJob: ...

    def get_training_status(self, job_id: str) -> TrainingJob: ...

    def list_jobs(self, *, model: str | None = None, limit: int = 50) -> list[TrainingJob]: ...

    def job_details(self, job_id: str, *, after_log: int = 0) -> JobDetails: ...

    def cancel_training(self, job_id: str) -> TrainingJob: ...

    def validate_model(self, model: str, version: str, data: str | Path) -> ValidationResults: ...

    def close(self) -> None: ...


def default_actor() -> str:
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local:unknown"


def _training_workers() -> int:
    # One job at a time by default: a search already keeps a core busy, and two cores are common.
    try:
        return max(1, int(os.environ.get("MLC_TRAINING_WORKERS", "1")))
    except ValueError:
        return 1


class LocalEngine:
    """The engine over an open store, in this process."""

    owns_store = True

    def __init__(self, store: Store, *, actor: str | None = None) -> None:
        self.store = store
        self.actor = actor or default_actor()
        self.artifacts = ArtifactStore(store.artifacts_dir)
        self.registry = ModelRegistry(store, self.artifacts)
        self.training = TrainingPipeline(store, self.registry, max_workers=_training_workers())

    @classmethod
    def open(cls, home: Path, *, actor: str | None = None, wait_s: float = 2.0) -> Self:
        return cls(Store.open(home, wait_s=wait_s), actor=actor)

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

    def verify_audit(self) -> AuditVerification:
        with self.store.read() as conn:
            return audit.verify_all(conn)

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

    def close(self) -> None:
        if self.store.closed:
            return
        try:
            self.training.close()
        finally:
            self.store.close()
