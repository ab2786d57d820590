"""Progressive rollouts' operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from typing import Protocol

from core.domain import Rollout


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
    ) -> Rollout: ...

    def get_rollout(self, model: str, *, environment: str = "production") -> Rollout: ...

    def pause_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout: ...

    def resume_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout: ...

    def promote_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout: ...

    def abort_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout: ...
