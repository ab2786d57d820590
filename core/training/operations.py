"""Training's operations of the engine (`core.engine.Engine`). Each is declared here once, with its
in-process body (see `core/engine.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from core.domain import TrainingJob
from core.forward import forward, in_process
from core.training.pipeline import TrainingPipeline
from core.training.validator import ValidationResults


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    actor: str
    training: TrainingPipeline


class Training(Protocol):
    """Background training jobs, their progress, and validation of a version on a dataset."""

    def trigger_training(self, config: str | Path, *, model: str | None = None) -> TrainingJob:
        parts = in_process(self, _Parts)
        return parts.training.trigger_training(config, model=model, actor=parts.actor)

    get_training_status = forward("training", TrainingPipeline.get_training_status)

    list_jobs = forward("training", TrainingPipeline.list_jobs)

    job_details = forward("training", TrainingPipeline.job_details)

    def cancel_training(self, job_id: str) -> TrainingJob:
        parts = in_process(self, _Parts)
        return parts.training.cancel_training(job_id, actor=parts.actor)

    def validate_model(self, model: str, version: str, data: str | Path) -> ValidationResults:
        parts = in_process(self, _Parts)
        return parts.training.validate_model(model, version, data)
