"""Retrain policies' operations of the engine (`core.engine.Engine`). Each is declared here once,
with its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from typing import Any, Protocol

from core.forward import forward, in_process
from core.retrain.service import RetrainPolicies, RetrainPolicy


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    actor: str
    retrain: RetrainPolicies


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
        parts = in_process(self, _Parts)
        return parts.retrain.create(
            model, rule_id, config_path, cooldown_s=cooldown_s, canary=canary, actor=parts.actor
        )

    list_retrain_policies = forward("retrain", RetrainPolicies.list)

    def delete_retrain_policy(self, policy_id: str) -> RetrainPolicy:
        parts = in_process(self, _Parts)
        return parts.retrain.delete(policy_id, actor=parts.actor)
