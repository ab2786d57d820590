"""`/api/v1/models/{name}/metrics`: performance over time."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import Response

from app.api.auth import Viewer
from app.api.render import doc, ok
from core.monitoring.metrics import PerformanceMetrics

router = APIRouter(prefix="/api/v1/models/{name}", tags=["monitoring"])


@router.get("/metrics", response_model=None, responses=doc(PerformanceMetrics))
def get_performance_metrics(
    name: str,
    engine: Viewer,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket_s: int = 60,
    version: str | None = None,
) -> Response:
    return ok(
        engine.get_performance_metrics(
            name, start=start, end=end, bucket_s=bucket_s, version=version
        )
    )
