"""What the owner hands a training worker: light types, so the owner need not import the
worker (and scikit-learn with it) until a job actually runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.domain import Task
from core.training.config import TrainingConfig

Send = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Champion:
    version: str
    artifact: bytes
    inputs: list[str]
    features: dict[str, str] | None = None
    """The champion's own feature types, when it was trained by mlc."""


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    model: str
    task: Task
    config: TrainingConfig
    declared_features: dict[str, str] = field(default_factory=dict)
    declared_target: str | None = None
    champion: Champion | None = None
    data: bytes | None = None
    """The training rows as Parquet, when the owner built them (from the feature store):
    the worker writes them to a file of its own and reads that instead of `config.data.path`."""
