"""What the demo's traffic simulator sends for one model: request features and their true
labels, read once from the sample data and kept as ready-made Python objects.

A `TrafficSource` names the files (healthy traffic, and optionally a drifted variant for the
drift episode); `Feed` is the loaded form the simulator samples rows from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from core.errors import InvalidInput


@dataclass(frozen=True)
class TrafficSource:
    """Traffic for one model: rows of `normal` (or of `drifted` during a drift episode)."""

    model: str
    normal: Path
    """Healthy traffic: the same process as the training data."""
    target: str
    """The label column; its value is sent later as the request's actual."""
    drop: tuple[str, ...] = ()
    """Columns that are not features (ids, timestamps)."""
    drifted: Path | None = None
    """Traffic for the drift episode (None: this model's traffic never drifts)."""
    share: float = 1.0
    """This model's share of the simulator's total rate, relative to the other sources."""


@dataclass(frozen=True)
class Rows:
    features: list[dict[str, Any]]
    labels: list[Any]


@dataclass(frozen=True)
class Feed:
    source: TrafficSource
    normal: Rows
    drifted: Rows | None

    def rows(self, drifting: bool) -> Rows:
        """The rows to sample from now."""
        return self.drifted if drifting and self.drifted is not None else self.normal


def load_feed(source: TrafficSource) -> Feed:
    """Read the source's Parquet files once (Polars) into request feature dicts and labels."""
    return Feed(
        source=source,
        normal=_rows(source.normal, source),
        drifted=None if source.drifted is None else _rows(source.drifted, source),
    )


def _rows(path: Path, source: TrafficSource) -> Rows:
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as e:
        raise InvalidInput(f"cannot read demo traffic {path}: {e}") from None
    if source.target not in frame.columns:
        raise InvalidInput(f"demo traffic {path} has no column {source.target!r}")
    if frame.height == 0:
        raise InvalidInput(f"demo traffic {path} has no rows")
    features = frame.drop([source.target, *(c for c in source.drop if c in frame.columns)])
    return Rows(features=features.to_dicts(), labels=frame[source.target].to_list())
