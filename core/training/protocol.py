"""Training's operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from core.domain import TrainingJob
from core.training.pipeline import JobDetails
from core.training.validator import ValidationResults


class Training(Protocol):
    """Background training jobs, their progress, and validation of a version on a dataset."""

    def trigger_training(self, config: str | Path, *, model: str | None = None) -> TrainingJob: ...

    def get_training_status(self, job_id: str) -> TrainingJob: ...

    def list_jobs(self, *, model: str | None = None, limit: int = 50) -> list[TrainingJob]: ...

    def job_details(self, job_id: str, *, after_log: int = 0) -> JobDetails: ...

    def cancel_training(self, job_id: str) -> TrainingJob: ...

    def validate_model(self, model: str, version: str, data: str | Path) -> ValidationResults: ...
