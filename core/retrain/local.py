"""`LocalEngine`'s retrain policy operations (`core.retrain.protocol.Retraining`), in this
process."""

from __future__ import annotations

from typing import Any

from core.forward import forward
from core.retrain.service import RetrainPolicies, RetrainPolicy


class LocalRetraining:
    """Retrain policy operations over `RetrainPolicies`, audited under the engine's actor."""

    actor: str
    retrain: RetrainPolicies

    list_retrain_policies = forward("retrain", RetrainPolicies.list)

    def create_retrain_policy(
        self,
        model: str,
        rule_id: str,
        config_path: str,
        *,
        cooldown_s: int = 3600,
        canary: dict[str, Any] | None = None,
    ) -> RetrainPolicy:
        return self.retrain.create(
            model, rule_id, config_path, cooldown_s=cooldown_s, canary=canary, actor=self.actor
        )

    def delete_retrain_policy(self, policy_id: str) -> RetrainPolicy:
        return self.retrain.delete(policy_id, actor=self.actor)
