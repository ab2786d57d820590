"""The model registry: models, immutable versions, tags, aliases and the status machine
(`core.registry.service`); the engine's registry operations are `core.registry.operations`."""

from core.registry.service import ModelRegistry, NewVersion

__all__ = ["ModelRegistry", "NewVersion"]
