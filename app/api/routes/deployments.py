"""`/api/v1/models/{name}/deployments`: revisions of traffic maps per environment."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from app.api.auth import Operator, Viewer
from app.api.render import doc, ok
from app.api.schemas import CurrentDeployment, Deploy, RevisionList, Rollback, Traffic
from core.deployments.owners import TrafficOwner
from core.domain import DeploymentRevision

router = APIRouter(prefix="/api/v1/models/{name}/deployments", tags=["deployments"])


class OwnerAnswer(BaseModel):
    owner: TrafficOwner | None


@router.get("", response_model=None, responses=doc(RevisionList))
def deployment_history(name: str, engine: Viewer, environment: str | None = None) -> Response:
    """Every revision, in every environment unless `environment` is given."""
    return ok({"revisions": engine.deployment_history(name, environment=environment)})


@router.get("/{environment}", response_model=None, responses=doc(CurrentDeployment))
def get_deployment(name: str, environment: str, engine: Viewer) -> Response:
    """The revision serving now (`null` when the model was never deployed there)."""
    return ok({"deployment": engine.get_deployment(name, environment=environment)})


@router.get("/{environment}/owner", response_model=None, responses=doc(OwnerAnswer))
def traffic_owner(name: str, environment: str, engine: Viewer) -> Response:
    """The running A/B test or active rollout owning this traffic (`null`: none); a deploy,
    traffic change, rollback or rollout by anyone else ends it as interrupted."""
    return ok({"owner": engine.traffic_owner(name, environment=environment)})


@router.post("/{environment}", status_code=201, response_model=None,
             responses=doc(DeploymentRevision, 201))  # fmt: skip
def deploy(name: str, environment: str, body: Deploy, engine: Operator) -> Response:
    """Send all traffic to one version (a new revision)."""
    revision = engine.deploy(
        name, body.version, environment=environment, reason=body.reason,
        expected_revision=body.expected_revision,
    )  # fmt: skip
    return ok(revision, 201)


@router.put("/{environment}/traffic", response_model=None, responses=doc(DeploymentRevision))
def set_traffic(name: str, environment: str, body: Traffic, engine: Operator) -> Response:
    """Split traffic between versions; 409 if `expected_revision` is no longer current."""
    revision = engine.set_traffic(
        name, body.traffic, environment=environment, reason=body.reason,
        expected_revision=body.expected_revision,
    )  # fmt: skip
    return ok(revision)


@router.post("/{environment}/rollback", response_model=None, responses=doc(DeploymentRevision))
def rollback(name: str, environment: str, body: Rollback, engine: Operator) -> Response:
    """Restore an earlier traffic map (by default the last known good); `dry_run` only shows it."""
    revision = engine.rollback(
        name, environment=environment, to_version=body.to_version,
        to_revision=body.to_revision, reason=body.reason, dry_run=body.dry_run,
        expected_revision=body.expected_revision,
    )  # fmt: skip
    return ok(revision)
