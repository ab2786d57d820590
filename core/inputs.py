"""Reading the files a user names (datasets, entity files, training configs, feature
definitions): one translation of the OS's, TOML's and Polars' errors into a message naming
the file and what it was for."""

from __future__ import annotations

import hashlib
import io
import tomllib
from pathlib import Path
from typing import Any

import polars as pl

from core.errors import InvalidInput

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def read_input(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{what} {path} does not exist") from None
    except OSError as e:
        raise InvalidInput(f"cannot read {what} {path}: {e.strerror}") from None


def read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(read_input(path, what).decode())
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput(f"{what} {path} is not valid TOML: {e}") from None


def data_format(path: Path, what: str = "dataset") -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(f"{what} {path} must be a .parquet or .csv file")
    return fmt


def read_with_sha256(path: Path, what: str = "dataset") -> tuple[pl.DataFrame, str]:
    """A Parquet or CSV file's rows and the sha256 of the bytes as read (one read, so the
    hash is of exactly what was parsed)."""
    fmt = data_format(path, what)
    raw = read_input(path, what)
    buf = io.BytesIO(raw)
    try:
        frame = pl.read_parquet(buf) if fmt == "parquet" else pl.read_csv(buf, try_parse_dates=True)
    except pl.exceptions.PolarsError as e:
        raise InvalidInput(f"cannot parse {what} {path}: {e}") from None
    return frame, hashlib.sha256(raw).hexdigest()
