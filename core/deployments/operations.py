"""Deployments' operations of the engine (`core.engine.Engine`). Each is declared here once, with
its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from typing import Protocol

from core.deployments.manager import DeploymentManager
from core.deployments.owners import TrafficOwner
from core.domain import DeploymentRevision
from core.forward import in_process


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    actor: str
    deployments: DeploymentManager


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
    ) -> DeploymentRevision:
        parts = in_process(self, _Parts)
        return parts.deployments.deploy(
            model, version, environment, actor=parts.actor, reason=reason,
            expected_revision=expected_revision,
        )  # fmt: skip

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
        parts = in_process(self, _Parts)
        return parts.deployments.set_traffic(
            model, traffic, environment, actor=parts.actor, reason=reason,
            expected_revision=expected_revision,
        )  # fmt: skip

    def get_deployment(
        self, model: str, *, environment: str = "production"
    ) -> DeploymentRevision | None:
        parts = in_process(self, _Parts)
        return parts.deployments.current(model, environment)

    def deployment_history(
        self, model: str, *, environment: str | None = None
    ) -> list[DeploymentRevision]:
        parts = in_process(self, _Parts)
        return parts.deployments.history(model, environment)

    def traffic_owner(self, model: str, *, environment: str = "production") -> TrafficOwner | None:
        """The running A/B test or active rollout owning this traffic, if any: a deploy,
        traffic change, rollback or rollout by anyone else ends it as interrupted."""
        parts = in_process(self, _Parts)
        return parts.deployments.traffic_owner(model, environment)

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
    ) -> DeploymentRevision:
        parts = in_process(self, _Parts)
        return parts.deployments.rollback(
            model, environment, actor=parts.actor, reason=reason, to_version=to_version,
            to_revision=to_revision, dry_run=dry_run, expected_revision=expected_revision,
        )  # fmt: skip
