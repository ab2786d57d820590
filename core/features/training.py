"""Training sets from the feature store: an entity file (keys, label, timestamp) joined
point-in-time with feature-store features, as the Parquet bytes a training worker reads.

The lineage (entity file and its sha256, the references, each view's version) is written
into the Parquet file's metadata, so the data hash the version records — the sha256 of the
bytes the worker trained on — changes when any view version does.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from core.errors import InvalidInput
from core.inputs import read_with_sha256
from core.jsonable import canonical_json

if TYPE_CHECKING:
    from core.features.service import FeatureStore

LINEAGE_KEY = "mlc.feature_lineage"


@dataclass(frozen=True)
class TrainingSet:
    data: bytes
    """Parquet: the entity file's columns, then one column per feature."""
    features: tuple[str, ...]
    """The feature columns, in the order asked."""
    lineage: dict[str, Any]
    """`entities`, `entities_sha256`, `timestamp`, `features` (references), `views`
    ({view: version}) and `rows`."""


def read_entities(path: Path) -> tuple[pl.DataFrame, str]:
    """An entity file's rows and the sha256 of its bytes."""
    return read_with_sha256(path, "entity file")


def build(
    store: FeatureStore,
    entities: Path,
    features: Sequence[str],
    *,
    timestamp: str,
    target: str,
) -> TrainingSet:
    frame, digest = read_entities(entities)
    if target not in frame.columns:
        raise InvalidInput(
            f"target column {target!r} is not in {entities.name} (columns: {', '.join(frame.columns)})"
        )
    joined, versions, read = store.historical_with_versions(frame, features, timestamp=timestamp)
    names = tuple(joined.columns[frame.width :])
    lineage = {
        "entities": str(entities),
        "entities_sha256": digest,
        "timestamp": timestamp,
        "features": [f"{v}:{n}" for v, n in read],
        "views": versions,
        "rows": joined.height,
    }
    buf = io.BytesIO()
    joined.write_parquet(buf, metadata={LINEAGE_KEY: canonical_json(lineage)})
    return TrainingSet(buf.getvalue(), names, lineage)
