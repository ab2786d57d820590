"""Reading a table file a command was given (Parquet, CSV, and where allowed JSON lines),
with one clear error for a missing, unreadable or unsupported file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import InvalidInput

if TYPE_CHECKING:
    import polars as pl


def read_table(path: Path, *, json_lines: bool = False, parse_dates: bool = False) -> pl.DataFrame:
    import polars as pl  # paid only by the commands that read files

    if not path.is_file():
        raise InvalidInput(f"file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path)
        if suffix == ".csv":
            return pl.read_csv(path, try_parse_dates=parse_dates)
        if json_lines and suffix in (".jsonl", ".ndjson", ".json"):
            return pl.read_ndjson(path)
    except (pl.exceptions.PolarsError, OSError) as e:
        raise InvalidInput(f"cannot read {path}: {e}") from None
    kinds = ".parquet, .csv or .jsonl (JSON lines)" if json_lines else ".parquet or .csv"
    raise InvalidInput(f"{path} must be {kinds}")
