"""The registry's operations of the engine (`core.engine.Engine`): models and their versions. Each
is declared here once, with its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from typing import Any, Protocol

from core.domain import Feature, Model, ModelVersion
from core.forward import forward, in_process
from core.registry.service import ModelRegistry, NewVersion


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    actor: str
    registry: ModelRegistry


class Registry(Protocol):
    """Models, immutable versions, tags, aliases and the status machine. Mutations are audited."""

    def create_model(
        self,
        name: str,
        task: str,
        *,
        target: str | None = None,
        features: list[Feature] | None = None,
        description: str = "",
    ) -> Model:
        parts = in_process(self, _Parts)
        return parts.registry.create_model(
            name, task, actor=parts.actor, target=target, features=features,
            description=description,
        )  # fmt: skip

    list_models = forward("registry", ModelRegistry.list_models)

    get_model = forward("registry", ModelRegistry.get_model)

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
        parts = in_process(self, _Parts)
        new = NewVersion(
            algorithm=algorithm,
            parameters=parameters or {},
            performance_metrics=metrics or {},
            training_data_hash=training_data_hash,
            parent_version=parent_version,
            description=description,
            tags=tuple((tags or {}).items()),
        )
        return parts.registry.register_version(model, artifact, new, actor=parts.actor)

    def list_versions(self, model: str) -> list[ModelVersion]:
        parts = in_process(self, _Parts)
        return parts.registry.list_versions(model)

    def get_version(self, model: str, ref: str) -> ModelVersion:
        parts = in_process(self, _Parts)
        return parts.registry.get_version(model, ref)

    def tag_version(self, model: str, ref: str, key: str, value: str) -> ModelVersion:
        parts = in_process(self, _Parts)
        return parts.registry.tag_version(model, ref, key, value, actor=parts.actor)

    def set_alias(self, model: str, ref: str, alias: str, *, reason: str = "") -> ModelVersion:
        parts = in_process(self, _Parts)
        return parts.registry.set_alias(model, ref, alias, actor=parts.actor, reason=reason)

    def transition_version(
        self, model: str, ref: str, status: str, *, reason: str = ""
    ) -> ModelVersion:
        parts = in_process(self, _Parts)
        return parts.registry.transition(model, ref, status, actor=parts.actor, reason=reason)
