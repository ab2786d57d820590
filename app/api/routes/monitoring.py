"""`/api/v1/models/{name}/metrics`: performance over time."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import Response

from app.api.auth import Viewer
from app.api.render import doc, ok
from core.engine import DriftReport
from core.monitoring.drift import ConceptDrift, FeatureDistribution
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


@router.get("/drift", response_model=None, responses=doc(DriftReport))
def detect_drift(
    name: str,
    engine: Viewer,
    version: str | None = None,
    window_s: float = 3600,
    min_current: int = 100,
    end: datetime | None = None,
) -> Response:
    return ok(
        engine.detect_drift(
            name, version=version, window_s=window_s, min_current=min_current, end=end
        )
    )


@router.get("/concept-drift", response_model=None, responses=doc(ConceptDrift))
def detect_concept_drift(
    name: str, engine: Viewer, version: str | None = None, window_s: float = 86400
) -> Response:
    return ok(engine.detect_concept_drift(name, version=version, window_s=window_s))


@router.get(
    "/features/{feature}/distribution",
    response_model=None,
    responses=doc(FeatureDistribution),
)
def feature_distribution(
    name: str,
    feature: str,
    engine: Viewer,
    version: str | None = None,
    window_s: float = 3600,
    bins: int = 20,
    end: datetime | None = None,
) -> Response:
    return ok(
        engine.feature_distribution(
            name, feature, version=version, window_s=window_s, bins=bins, end=end
        )
    )
