"""What training needs of the feature store, as a protocol: the engine hands the pipeline its
`FeatureStore` (`core.features`), so training does not import the features capability, which
itself reads entity files the way training reads datasets (`core.inputs`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from storage.conn import Conn


class BuiltSet(Protocol):
    """A point-in-time training set (`core.features.training.TrainingSet`)."""

    @property
    def data(self) -> bytes: ...
    @property
    def features(self) -> tuple[str, ...]: ...
    @property
    def lineage(self) -> dict[str, Any]: ...


class FeatureSource(Protocol):
    def training_set(
        self, entities: Path, features: Sequence[str], *, timestamp: str, target: str
    ) -> BuiltSet: ...

    def record_lineage(
        self, conn: Conn, job_id: str, lineage: Mapping[str, Any], at: datetime
    ) -> None: ...
