"""Retrain policies' operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from typing import Any, Protocol

from core.retrain.service import RetrainPolicy


class Retraining(Protocol):
    """Retrain policies: an alert that fires starts a training job (then, optionally, a canary)."""

    def create_retrain_policy(
        self,
        model: str,
        rule_id: str,
        config_path: str,
        *,
        cooldown_s: int = 3600,
        canary: dict[str, Any] | None = None,
    ) -> RetrainPolicy:
        """When `rule_id` fires for `model`, train `config_path` (then, optionally, a canary)."""
        ...

    def list_retrain_policies(self, *, model: str | None = None) -> list[RetrainPolicy]: ...

    def delete_retrain_policy(self, policy_id: str) -> RetrainPolicy: ...
