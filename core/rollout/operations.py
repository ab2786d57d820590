"""Progressive rollouts' operations of the engine (`core.engine.Engine`). Each is declared here
once, with its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from typing import Protocol

from core.domain import Rollout
from core.forward import in_process
from core.rollout.controller import RolloutController


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    actor: str
    rollouts: RolloutController


class Rollouts(Protocol):
    """Progressive rollouts: weights stepped with an analysis gate between steps."""

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
        parts = in_process(self, _Parts)
        return parts.rollouts.start(
            model, version, environment, steps=steps, interval_s=interval_s,
            guardrails=guardrails, failure_limit=failure_limit, min_samples=min_samples,
            actor=parts.actor, reason=reason,
        )  # fmt: skip

    def get_rollout(self, model: str, *, environment: str = "production") -> Rollout:
        parts = in_process(self, _Parts)
        return parts.rollouts.get(model, environment)

    def pause_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        parts = in_process(self, _Parts)
        return parts.rollouts.pause(model, environment, actor=parts.actor, reason=reason)

    def resume_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        parts = in_process(self, _Parts)
        return parts.rollouts.resume(model, environment, actor=parts.actor, reason=reason)

    def promote_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        parts = in_process(self, _Parts)
        return parts.rollouts.promote(model, environment, actor=parts.actor, reason=reason)

    def abort_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        parts = in_process(self, _Parts)
        return parts.rollouts.abort(model, environment, actor=parts.actor, reason=reason)
