"""Prediction events' feature JSON decoded into typed columns, once per window."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl


def features_frame(events: pl.DataFrame, profile: Mapping[str, Any]) -> pl.DataFrame:
    """The features column (JSON objects) as typed columns named as in the profile."""
    features: Mapping[str, Mapping[str, Any]] = profile.get("features", {})
    types = {name: fp.get("type") for name, fp in features.items()}
    # Binary features may arrive as true/false or 1/0: decode them as text, then map.
    dtype = pl.Struct(
        {
            name: pl.Float64 if kind == "numeric" else pl.String
            for name, kind in types.items()
            if kind != "datetime"
        }
    )
    if events.height == 0:
        return pl.DataFrame(
            schema={n: pl.String if t == "categorical" else pl.Float64 for n, t in types.items()}
        )
    frame = events["features"].fill_null("{}").str.json_decode(dtype).struct.unnest()
    binary = [name for name, kind in types.items() if kind == "binary"]
    return frame.with_columns(
        pl.col(name).replace_strict(
            {"true": 1.0, "1": 1.0, "1.0": 1.0, "false": 0.0, "0": 0.0, "0.0": 0.0},
            default=None,
            return_dtype=pl.Float64,
        )
        for name in binary
    )
