"""`/api/v1/training/jobs`: trigger, follow and cancel training jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.api.auth import Operator, Viewer
from app.api.render import doc, ok
from app.api.schemas import JobList, TriggerTraining
from core.domain import TrainingJob
from core.training.pipeline import JobDetails

router = APIRouter(prefix="/api/v1/training/jobs", tags=["training"])


@router.post("", status_code=201, response_model=None, responses=doc(TrainingJob, 201))
def trigger_training(body: TriggerTraining, engine: Operator) -> Response:
    """Queue a job from a config file on the server; answers at once with the queued job."""
    return ok(engine.trigger_training(body.config, model=body.model), 201)


@router.get("", response_model=None, responses=doc(JobList))
def list_jobs(
    engine: Viewer,
    model: str | None = None,
    limit: Annotated[int, Query(ge=1)] = 50,
) -> Response:
    """Newest first."""
    return ok({"jobs": engine.list_jobs(model=model, limit=limit)})


@router.get("/{job_id}", response_model=None, responses=doc(TrainingJob))
def get_training_status(job_id: str, engine: Viewer) -> Response:
    return ok(engine.get_training_status(job_id))


@router.get("/{job_id}/details", response_model=None, responses=doc(JobDetails))
def job_details(
    job_id: str,
    engine: Viewer,
    after_log: Annotated[int, Query(ge=0, description="Only log lines after this seq")] = 0,
) -> Response:
    """The job, every search trial, and its log lines (poll with `after_log` to follow)."""
    return ok(engine.job_details(job_id, after_log=after_log))


@router.post("/{job_id}/cancel", response_model=None, responses=doc(TrainingJob))
def cancel_training(job_id: str, engine: Operator) -> Response:
    return ok(engine.cancel_training(job_id))
