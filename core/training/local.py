"""`LocalEngine`'s training operations (`core.training.protocol.Training`), in this process."""

from __future__ import annotations

from pathlib import Path

from core.domain import TrainingJob
from core.forward import forward
from core.training.pipeline import TrainingPipeline
from core.training.validator import ValidationResults


class LocalTraining:
    """Training operations over `TrainingPipeline`, audited under the engine's actor."""

    actor: str
    training: TrainingPipeline

    get_training_status = forward("training", TrainingPipeline.get_training_status)
    list_jobs = forward("training", TrainingPipeline.list_jobs)
    job_details = forward("training", TrainingPipeline.job_details)

    def trigger_training(self, config: str | Path, *, model: str | None = None) -> TrainingJob:
        return self.training.trigger_training(config, model=model, actor=self.actor)

    def cancel_training(self, job_id: str) -> TrainingJob:
        return self.training.cancel_training(job_id, actor=self.actor)

    def validate_model(self, model: str, version: str, data: str | Path) -> ValidationResults:
        return self.training.validate_model(model, version, data)
