"""Reading a feature file (CSV or Parquet) into the offline layout, checking every row.

The whole file is checked before anything is stored: a bad row is reported with its line
(CSV: the line in the file, the header being line 1; Parquet: the row number, from 1), and
one bad row refuses the file. Times without a zone are UTC; times with one are converted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from core.domain import FeatureType
from core.errors import InvalidInput
from core.features.definitions import ViewSpec

MAX_REPORTED = 10
"""Bad rows named in the message; `detail` holds up to MAX_DETAIL of them."""
MAX_DETAIL = 100

KEY_TYPES: dict[str, pl.DataType] = {"string": pl.String(), "int": pl.Int64()}
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


def read_file(path: Path) -> tuple[pl.DataFrame, bool]:
    """The file's rows (CSV: every column as text) and whether it is a CSV."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InvalidInput(f"file {path} does not exist")
    try:
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path), False
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema=False), True
    except (pl.exceptions.PolarsError, OSError) as e:
        raise InvalidInput(f"cannot read {path}: {e}") from None
    raise InvalidInput(f"{path} must be a .parquet or .csv file")


def columns_of(path: Path) -> list[str]:
    """The file's column names, read from its schema or header only."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InvalidInput(f"file {path} does not exist")
    try:
        if suffix in (".parquet", ".pq"):
            return list(pl.read_parquet_schema(path))
        if suffix == ".csv":
            return pl.read_csv(path, n_rows=0, infer_schema=False).columns
    except (pl.exceptions.PolarsError, OSError) as e:
        raise InvalidInput(f"cannot read {path}: {e}") from None
    raise InvalidInput(f"{path} must be a .parquet or .csv file")


def required_columns(view: ViewSpec, join_key: str) -> list[str]:
    cols = [join_key, view.timestamp]
    if view.created_timestamp:
        cols.append(view.created_timestamp)
    return cols + [f.name for f in view.features]


def check_columns(
    view: ViewSpec, join_key: str, present: list[str], where: str, *, strict: bool
) -> None:
    """Every column the view reads is there; with `strict`, nothing else is."""
    needed = required_columns(view, join_key)
    missing = [c for c in needed if c not in present]
    if missing:
        raise InvalidInput(
            f"{where} lacks column(s) {', '.join(missing)} that view {view.name} reads"
            f" (it needs {', '.join(needed)})"
        )
    if strict:
        extra = [c for c in present if c not in needed]
        if extra:
            raise InvalidInput(
                f"{where} has column(s) {', '.join(extra)} that view {view.name} does not"
                f" declare (it reads {', '.join(needed)}): drop them, or add the features"
                " to the view and apply it first"
            )


def to_offline(
    view: ViewSpec, join_key: str, value_type: str, path: Path, *, strict: bool = True
) -> pl.DataFrame:
    """The file's rows as `_key, _event_ts, _created_ts, <features>`, every row checked.

    `strict` (ingest) refuses columns the view does not declare; a file source may hold more.
    """
    frame, is_csv = read_file(path)
    check_columns(view, join_key, frame.columns, str(path), strict=strict)
    problems: list[tuple[int, str]] = []
    out: dict[str, pl.Series] = {}

    def bad(mask: pl.Series, message: str) -> None:
        for i in mask.arg_true().head(MAX_DETAIL).to_list():
            problems.append((i, message))

    raw_key = frame.get_column(join_key)
    blank = raw_key.is_null() | (_cast(raw_key, pl.String()).str.strip_chars() == "").fill_null(
        True
    )
    key = _cast(raw_key, KEY_TYPES[value_type])
    bad(blank, f"{join_key} is empty")
    bad(~blank & key.is_null(), f"{join_key} is not an integer")
    out["_key"] = key

    times, unparsed = parse_times(frame.get_column(view.timestamp))
    bad(frame.get_column(view.timestamp).is_null(), f"{view.timestamp} is empty")
    bad(unparsed, f"{view.timestamp} is not a time")
    out["_event_ts"] = times
    if view.created_timestamp:
        created, unparsed = parse_times(frame.get_column(view.created_timestamp))
        bad(unparsed, f"{view.created_timestamp} is not a time")
        out["_created_ts"] = created
    else:
        out["_created_ts"] = pl.Series("_created_ts", [None] * frame.height, pl.Datetime("us"))

    for feature in view.features:
        raw = frame.get_column(feature.name)
        value, wrong, message = _feature_values(raw, feature.type)
        bad(wrong, f"feature {feature.name!r} {message}")
        out[feature.name] = value

    if problems:
        problems.sort(key=lambda p: p[0])  # by row, then in column order
        unit = "line" if is_csv else "row"
        offset = 2 if is_csv else 1
        listed = "; ".join(f"{unit} {i + offset}: {m}" for i, m in problems[:MAX_REPORTED])
        rows = len({i for i, _ in problems})
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        raise InvalidInput(
            f"{path}: {rows}{'+' if len(problems) >= MAX_DETAIL else ''} bad row(s) for view"
            f" {view.name}, nothing was stored — {listed}{more}",
            detail=[{unit: i + offset, "problem": m} for i, m in problems[:MAX_DETAIL]],
        )
    return pl.DataFrame([s.alias(name) for name, s in out.items()])


def _cast(series: pl.Series, dtype: pl.DataType) -> pl.Series:
    if series.dtype == pl.String and dtype == pl.Int64:
        series = series.str.strip_chars()
    try:
        return series.cast(dtype, strict=False)
    except pl.exceptions.PolarsError:
        return pl.Series(series.name, [None] * series.len(), dtype)


def _feature_values(raw: pl.Series, kind: FeatureType) -> tuple[pl.Series, pl.Series, str]:
    """(values, rows that are wrong, what is wrong with them)."""
    present = raw.is_not_null()
    if kind is FeatureType.CATEGORICAL:
        value = raw if raw.dtype == pl.String else _cast(raw, pl.String())
        return value, present & value.is_null(), "must be a string"
    if kind is FeatureType.BINARY:
        if raw.dtype == pl.Boolean:
            return raw, _none(raw), ""
        text = _cast(raw, pl.String()).str.strip_chars().str.to_lowercase()
        value = (
            pl.when(text.is_in(list(_TRUE)))
            .then(True)
            .when(text.is_in(list(_FALSE)))
            .then(False)
            .otherwise(None)
        )
        values = pl.select(value.alias(raw.name)).to_series()
        return values, present & values.is_null(), "must be true or false (or 1/0)"
    source = raw.str.strip_chars() if raw.dtype == pl.String else raw
    value = _cast(source, pl.Float64())
    wrong = present & (value.is_null() | ~value.is_finite().fill_null(True))
    value = pl.select(pl.when(value.is_finite()).then(value).alias(raw.name)).to_series()
    return value, wrong, "must be a finite number"


def parse_times(raw: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(times as naive UTC `datetime[us]`, rows that held something that is not a time)."""
    dtype = raw.dtype
    if isinstance(dtype, pl.Datetime):
        times = raw
        if dtype.time_zone is not None:
            times = times.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return times.cast(pl.Datetime("us")), _none(raw)
    if dtype == pl.Date:
        return raw.cast(pl.Datetime("us")), _none(raw)
    if dtype != pl.String:
        nulls = pl.Series(raw.name, [None] * raw.len(), pl.Datetime("us"))
        return nulls, raw.is_not_null()
    text = raw.str.strip_chars()
    try:
        parsed = text.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
        parsed = parsed.dt.replace_time_zone(None)
    except pl.exceptions.PolarsError:
        parsed = pl.Series(raw.name, [None] * raw.len(), pl.Datetime("us"))
    missed = text.is_not_null() & parsed.is_null()
    if missed.any():  # mixed formats: the vectorised parse takes one; the rest one by one
        values = parsed.to_list()
        for i in missed.arg_true().to_list():
            values[i] = _iso(text[i])
        parsed = pl.Series(raw.name, values, pl.Datetime("us"))
        missed = text.is_not_null() & parsed.is_null()
    return parsed.alias(raw.name), missed


def _none(like: pl.Series) -> pl.Series:
    return pl.Series(like.name, [False] * like.len(), pl.Boolean())


def _iso(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
