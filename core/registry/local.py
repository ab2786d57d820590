"""`LocalEngine`'s registry operations (`core.registry.protocol.Registry`), in this process."""

from __future__ import annotations

from typing import Any

from core.domain import Feature, Model, ModelVersion
from core.forward import forward
from core.registry.service import ModelRegistry, NewVersion


class LocalRegistry:
    """Registry operations over `ModelRegistry`, audited under the engine's actor."""

    actor: str
    registry: ModelRegistry

    list_models = forward("registry", ModelRegistry.list_models)
    get_model = forward("registry", ModelRegistry.get_model)

    def create_model(
        self,
        name: str,
        task: str,
        *,
        target: str | None = None,
        features: list[Feature] | None = None,
        description: str = "",
    ) -> Model:
        return self.registry.create_model(
            name, task, actor=self.actor, target=target, features=features,
            description=description,
        )  # fmt: skip

    def register_version(
        self,
        model: str,
        artifact: bytes,
        *,
        algorithm: str,
        parameters: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        description: str = "",
        parent_version: str | None = None,
        training_data_hash: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        new = NewVersion(
            algorithm=algorithm,
            parameters=parameters or {},
            performance_metrics=metrics or {},
            training_data_hash=training_data_hash,
            parent_version=parent_version,
            description=description,
            tags=tuple((tags or {}).items()),
        )
        return self.registry.register_version(model, artifact, new, actor=self.actor)

    def list_versions(self, model: str) -> list[ModelVersion]:
        return self.registry.list_versions(model)

    def get_version(self, model: str, ref: str) -> ModelVersion:
        return self.registry.get_version(model, ref)

    def tag_version(self, model: str, ref: str, key: str, value: str) -> ModelVersion:
        return self.registry.tag_version(model, ref, key, value, actor=self.actor)

    def set_alias(self, model: str, ref: str, alias: str, *, reason: str = "") -> ModelVersion:
        return self.registry.set_alias(model, ref, alias, actor=self.actor, reason=reason)

    def transition_version(
        self, model: str, ref: str, status: str, *, reason: str = ""
    ) -> ModelVersion:
        return self.registry.transition(model, ref, status, actor=self.actor, reason=reason)
