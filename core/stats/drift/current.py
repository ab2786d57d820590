"""The current window read for comparison: numeric columns sorted with their missing values
counted, categories counted as strings (binary ones spelled "0"/"1"), reference shares
spelled the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from core.errors import InvalidInput
from core.stats.drift.results import OTHER

_TRUE = {"true", "1", "1.0"}
_FALSE = {"false", "0", "0.0"}


def _canon_binary(key: Any) -> Any:
    k = str(key).strip().lower()
    return "1" if k in _TRUE else "0" if k in _FALSE else str(key)


def reference_shares(fp: Mapping[str, Any], kind: str) -> dict[Any, float]:
    """A categorical or binary profile's category shares, keyed as `string_counts` keys."""
    freqs: Mapping[str, Any] = fp.get("frequencies") or {}
    if kind != "binary":
        return {str(k): float(v) for k, v in freqs.items()}
    out: dict[Any, float] = {}
    for k, v in freqs.items():
        c = k if k == OTHER else _canon_binary(k)
        out[c] = out.get(c, 0.0) + float(v)
    return out


def _as_strings(series: pl.Series) -> pl.Series:
    if series.dtype.is_float():
        series = series.fill_nan(None)
    return series.cast(pl.String)


def string_counts(series: pl.Series, kind: str) -> tuple[dict[Any, int], int]:
    """(count per category as a string, nulls and NaN skipped), binary spelled \"0\"/\"1\"."""
    s = _as_strings(series)
    missing = s.null_count()
    vc = s.drop_nulls().rename("v").value_counts(name="n")
    counts: dict[Any, int] = {}
    for k, c in zip(vc["v"].to_list(), vc["n"].to_list(), strict=True):
        key = _canon_binary(k) if kind == "binary" else k
        counts[key] = counts.get(key, 0) + int(c)
    return counts, missing


def sorted_numeric(current: pl.DataFrame, names: list[str]) -> dict[str, tuple[np.ndarray, int]]:
    """Per column: finite values sorted ascending, and how many were missing. One polars pass
    sorts all columns in parallel; non-finite values become nulls and sort last."""
    if not names:
        return {}
    exprs: list[pl.Expr] = []
    for name in names:
        col = pl.col(name).cast(pl.Float64)
        exprs.append(pl.when(col.is_finite()).then(col).sort(nulls_last=True).alias(name))
    frame = current.select(exprs)
    out: dict[str, tuple[np.ndarray, int]] = {}
    for name in names:
        s = frame[name]
        missing = s.null_count()
        out[name] = (s.head(len(s) - missing).to_numpy(), missing)
    return out


def check_columns(current: pl.DataFrame, features: Mapping[str, Any]) -> None:
    """InvalidInput unless every feature has a column, numeric ones of a numeric type."""
    absent = [name for name in features if name not in current.columns]
    if absent:
        raise InvalidInput(f"current data has no column for features: {', '.join(absent)}")
    for name, fp in features.items():
        dtype = current.schema[name]
        # Schema dtypes are instances: `pl.Boolean() == pl.Boolean` holds, though polars'
        # typing says `in (pl.Boolean, pl.Null)` never can; isinstance says the same plainly.
        numeric_ok = dtype.is_numeric() or isinstance(dtype, pl.Boolean | pl.Null)
        if fp.get("type") == "numeric" and not numeric_ok:
            raise InvalidInput(f"feature {name!r} is numeric but its column is {dtype}")
