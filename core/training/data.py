"""Reading a training dataset: a cheap preflight on the schema, then the full load and split.

The preflight reads only the file's schema (and the target's distinct values) so bad input is
refused before any work starts; the load reads the bytes once, hashes exactly what was read,
and parses those same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from core.domain import FeatureType, Task
from core.errors import InvalidInput
from core.inputs import data_format, read_with_sha256
from core.model_frame import model_columns, to_model_frame
from core.training.config import DataSpec, SplitSpec


@dataclass(frozen=True)
class DatasetSchema:
    path: Path
    columns: dict[str, pl.DataType]
    features: dict[str, FeatureType]
    """Feature name → type, in column order."""
    classes: list[Any] | None


@dataclass
class PreparedData:
    schema: DatasetSchema
    data_hash: str
    rows: int
    dropped_unlabelled: int
    X_train: pl.DataFrame
    y_train: np.ndarray
    X_holdout: pl.DataFrame
    y_holdout: np.ndarray
    holdout_raw: pl.DataFrame
    """Every column of the holdout rows, so another version can be scored on the same rows."""

    @property
    def numeric(self) -> list[str]:
        return model_columns(self.schema.features)[0]

    @property
    def categorical(self) -> list[str]:
        return model_columns(self.schema.features)[1]


def _scan(path: Path) -> pl.LazyFrame:
    if not path.exists():
        raise InvalidInput(f"dataset {path} does not exist")
    fmt = data_format(path)
    try:
        return (
            pl.scan_parquet(path) if fmt == "parquet" else pl.scan_csv(path, try_parse_dates=True)
        )
    except (pl.exceptions.PolarsError, OSError) as e:
        raise InvalidInput(f"cannot read dataset {path}: {e}") from None


def infer_feature_type(
    name: str, dtype: pl.DataType, categorical: tuple[str, ...] = ()
) -> FeatureType:
    if name in categorical:
        return FeatureType.CATEGORICAL
    if dtype == pl.Boolean:
        return FeatureType.BINARY
    if dtype.is_numeric():
        return FeatureType.NUMERIC
    if dtype.is_temporal():
        return FeatureType.DATETIME
    return FeatureType.CATEGORICAL


def inspect_dataset(spec: DataSpec, task: Task) -> DatasetSchema:
    """Check the columns and the target without loading the data."""
    lazy = _scan(spec.path)
    try:
        columns = dict(lazy.collect_schema())
    except (pl.exceptions.PolarsError, OSError) as e:
        raise InvalidInput(f"cannot read dataset {spec.path}: {e}") from None
    where = spec.path.name

    def need(col: str, role: str) -> None:
        if col not in columns:
            raise InvalidInput(
                f"{role} column {col!r} is not in {where} (columns: {', '.join(columns)})"
            )

    need(spec.target, "target")
    if spec.timestamp:
        need(spec.timestamp, "timestamp")
    for col in (*spec.exclude, *spec.categorical):
        need(col, "listed")
    skip = {spec.target, spec.timestamp, *spec.exclude}
    if spec.features is not None:
        for col in spec.features:
            need(col, "feature")
            if col in skip:
                raise InvalidInput(f"feature {col!r} is also the target, timestamp or excluded")
        chosen = list(spec.features)
    else:
        chosen = [c for c in columns if c not in skip and not columns[c].is_temporal()]
    features = {c: infer_feature_type(c, columns[c], spec.categorical) for c in chosen}
    dated = [c for c, t in features.items() if t is FeatureType.DATETIME]
    if dated:
        raise InvalidInput(
            f"feature {dated[0]!r} is a date/time; derive numeric features from it or exclude it"
        )
    if not features:
        raise InvalidInput(f"no feature columns left in {where} after target/timestamp/exclude")

    target_type = columns[spec.target]
    classes = None
    if task is Task.REGRESSION:
        if not target_type.is_numeric():
            raise InvalidInput(f"regression target {spec.target!r} is {target_type}, not numeric")
    else:
        try:
            distinct = lazy.select(pl.col(spec.target).drop_nulls().unique().sort()).collect()
        except pl.exceptions.PolarsError as e:
            raise InvalidInput(f"cannot read target {spec.target!r}: {e}") from None
        classes = distinct.to_series().to_list()
        if len(classes) < 2:
            only = f" ({classes[0]!r})" if classes else ""
            raise InvalidInput(
                f"target {spec.target!r} has {len(classes)} class{only}: a classifier needs ≥ 2"
            )
        if len(classes) > 100:
            raise InvalidInput(
                f"target {spec.target!r} has {len(classes)} classes: is it a regression target?"
            )
    return DatasetSchema(spec.path, columns, features, classes)


def load_labelled(spec: DataSpec) -> tuple[pl.DataFrame, np.ndarray, str]:
    """Every labelled row of the file, its labels, and the sha256 of the bytes as read."""
    frame, digest = read_with_sha256(spec.path)
    labelled = frame.filter(pl.col(spec.target).is_not_null())
    return labelled, labelled.get_column(spec.target).to_numpy(), digest


def load_dataset(
    spec: DataSpec, split: SplitSpec, task: Task, schema: DatasetSchema | None = None
) -> PreparedData:
    schema = schema or inspect_dataset(spec, task)
    frame, _, data_hash = load_labelled(spec)
    total = _row_count(spec)
    if frame.height < 20:
        raise InvalidInput(f"dataset {spec.path.name} has only {frame.height} labelled rows")
    train, holdout = _split(frame, split, task, spec.target)
    return PreparedData(
        schema=schema,
        data_hash=data_hash,
        rows=frame.height,
        dropped_unlabelled=total - frame.height,
        X_train=to_model_frame(train, schema.features),
        y_train=train.get_column(spec.target).to_numpy(),
        X_holdout=to_model_frame(holdout, schema.features),
        y_holdout=holdout.get_column(spec.target).to_numpy(),
        holdout_raw=holdout,
    )


def _row_count(spec: DataSpec) -> int:
    return int(_scan(spec.path).select(pl.len()).collect().item())


def _split(
    frame: pl.DataFrame, split: SplitSpec, task: Task, target: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    n_holdout = max(1, round(frame.height * split.holdout))
    if split.method == "time":
        assert split.column is not None
        ordered = frame.sort(split.column, maintain_order=True)
        return ordered.head(frame.height - n_holdout), ordered.tail(n_holdout)
    rng = np.random.default_rng(split.seed)
    if task is Task.CLASSIFICATION:
        # Stratified: every class keeps its share in the holdout.
        labels = frame.get_column(target).to_numpy()
        holdout_idx: list[int] = []
        for cls in np.unique(labels):
            idx = np.flatnonzero(labels == cls)
            rng.shuffle(idx)
            holdout_idx.extend(idx[: max(1, round(len(idx) * split.holdout))].tolist())
        mask = np.zeros(frame.height, dtype=bool)
        mask[holdout_idx] = True
    else:
        mask = np.zeros(frame.height, dtype=bool)
        mask[rng.permutation(frame.height)[:n_holdout]] = True
    keep = pl.Series("holdout", mask)
    return frame.filter(~keep), frame.filter(keep)
