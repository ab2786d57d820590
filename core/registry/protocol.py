"""The registry's operations of the engine (`core.engine.Engine`): models and their versions."""

from __future__ import annotations

from typing import Any, Protocol

from core.domain import Feature, Model, ModelVersion


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
    ) -> Model: ...

    def list_models(self) -> list[Model]: ...

    def get_model(self, name: str) -> Model: ...

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
    ) -> ModelVersion: ...

    def list_versions(self, model: str) -> list[ModelVersion]: ...

    def get_version(self, model: str, ref: str) -> ModelVersion: ...

    def tag_version(self, model: str, ref: str, key: str, value: str) -> ModelVersion: ...

    def set_alias(self, model: str, ref: str, alias: str, *, reason: str = "") -> ModelVersion: ...

    def transition_version(
        self, model: str, ref: str, status: str, *, reason: str = ""
    ) -> ModelVersion: ...
