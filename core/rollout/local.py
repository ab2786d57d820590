"""`LocalEngine`'s rollout operations (`core.rollout.protocol.Rollouts`), in this process."""

from __future__ import annotations

from core.domain import Rollout
from core.rollout.controller import RolloutController


class LocalRollouts:
    """Rollout operations over `RolloutController`, audited under the engine's actor."""

    actor: str
    rollouts: RolloutController

    def start_rollout(
        self,
        model: str,
        version: str,
        *,
        environment: str = "production",
        steps: list[float],
        interval_s: float,
        guardrails: list[str],
        failure_limit: int = 0,
        min_samples: int = 100,
        reason: str = "",
    ) -> Rollout:
        return self.rollouts.start(
            model, version, environment, steps=steps, interval_s=interval_s,
            guardrails=guardrails, failure_limit=failure_limit, min_samples=min_samples,
            actor=self.actor, reason=reason,
        )  # fmt: skip

    def get_rollout(self, model: str, *, environment: str = "production") -> Rollout:
        return self.rollouts.get(model, environment)

    def pause_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self.rollouts.pause(model, environment, actor=self.actor, reason=reason)

    def resume_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self.rollouts.resume(model, environment, actor=self.actor, reason=reason)

    def promote_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self.rollouts.promote(model, environment, actor=self.actor, reason=reason)

    def abort_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self.rollouts.abort(model, environment, actor=self.actor, reason=reason)
