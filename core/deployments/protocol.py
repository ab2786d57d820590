"""Deployments' operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from typing import Protocol

from core.deployments.owners import TrafficOwner
from core.domain import DeploymentRevision


class Deployments(Protocol):
    """Per model and environment, a revision history of traffic maps. Mutations are audited."""

    def deploy(
        self,
        model: str,
        version: str,
        *,
        environment: str = "production",
        reason: str = "",
        expected_revision: int | None = None,
    ) -> DeploymentRevision: ...

    def set_traffic(
        self,
        model: str,
        traffic: dict[str, float],
        *,
        environment: str = "production",
        reason: str = "",
        expected_revision: int | None = None,
    ) -> DeploymentRevision:
        """`traffic` is `{version: fraction}` summing to 1."""
        ...

    def get_deployment(
        self, model: str, *, environment: str = "production"
    ) -> DeploymentRevision | None: ...

    def deployment_history(
        self, model: str, *, environment: str | None = None
    ) -> list[DeploymentRevision]: ...

    def traffic_owner(self, model: str, *, environment: str = "production") -> TrafficOwner | None:
        """The running A/B test or active rollout owning this traffic, if any: a deploy,
        traffic change, rollback or rollout by anyone else ends it as interrupted."""
        ...

    def rollback(
        self,
        model: str,
        *,
        environment: str = "production",
        to_version: str | None = None,
        to_revision: int | None = None,
        reason: str,
        dry_run: bool = False,
        expected_revision: int | None = None,
    ) -> DeploymentRevision: ...
