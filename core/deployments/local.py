"""`LocalEngine`'s deployment operations (`core.deployments.protocol.Deployments`), in this
process."""

from __future__ import annotations

from core.deployments.manager import DeploymentManager
from core.deployments.owners import TrafficOwner
from core.domain import DeploymentRevision


class LocalDeployments:
    """Deployment operations over `DeploymentManager`, audited under the engine's actor."""

    actor: str
    deployments: DeploymentManager

    def deploy(
        self,
        model: str,
        version: str,
        *,
        environment: str = "production",
        reason: str = "",
        expected_revision: int | None = None,
    ) -> DeploymentRevision:
        return self.deployments.deploy(
            model, version, environment, actor=self.actor, reason=reason,
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
        return self.deployments.set_traffic(
            model, traffic, environment, actor=self.actor, reason=reason,
            expected_revision=expected_revision,
        )  # fmt: skip

    def get_deployment(
        self, model: str, *, environment: str = "production"
    ) -> DeploymentRevision | None:
        return self.deployments.current(model, environment)

    def deployment_history(
        self, model: str, *, environment: str | None = None
    ) -> list[DeploymentRevision]:
        return self.deployments.history(model, environment)

    def traffic_owner(self, model: str, *, environment: str = "production") -> TrafficOwner | None:
        return self.deployments.traffic_owner(model, environment)

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
        return self.deployments.rollback(
            model, environment, actor=self.actor, reason=reason, to_version=to_version,
            to_revision=to_revision, dry_run=dry_run, expected_revision=expected_revision,
        )  # fmt: skip
