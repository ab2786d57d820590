"""The frame an estimator reads: training fits a pipeline on it and serving predicts on it,
so both build it here (feature order and dtypes by the feature schema)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from core.domain import FeatureType


def model_columns(features: dict[str, FeatureType]) -> tuple[list[str], list[str]]:
    """(numeric, categorical) columns as the pipeline sees them: binary features are 0/1."""
    numeric = [c for c, t in features.items() if t in (FeatureType.NUMERIC, FeatureType.BINARY)]
    categorical = [c for c, t in features.items() if t is FeatureType.CATEGORICAL]
    return numeric, categorical


def model_dtypes(features: Mapping[str, FeatureType | str]) -> dict[str, pl.DataType]:
    """The dtype of each feature as the pipeline is trained on it and sees it when serving:
    categorical features are strings, numeric and binary ones floats (booleans as 0/1)."""
    return {
        name: pl.String() if FeatureType(kind) is FeatureType.CATEGORICAL else pl.Float64()
        for name, kind in features.items()
    }


def to_model_frame(frame: pl.DataFrame, features: Mapping[str, FeatureType | str]) -> pl.DataFrame:
    """The features in `model_dtypes`, in order; training and serving share it."""
    return frame.select(
        pl.col(name).cast(dtype, strict=False) for name, dtype in model_dtypes(features).items()
    )
