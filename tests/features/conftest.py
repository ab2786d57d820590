from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from core.engine import LocalEngine

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "features"
T0 = datetime(2024, 1, 1)

DEFINITIONS = """
[entities.customer]
join_key = "customer_id"

[views.profile]
entity = "customer"
timestamp = "ts"
created_timestamp = "created"
ttl = "5d"
features = { score = "numeric", tier = "categorical" }

[views.activity]
entity = "customer"
timestamp = "ts"
features = { clicks = "numeric", premium = "binary" }
"""


def at(days: float = 0, *, seconds: float = 0) -> datetime:
    return T0 + timedelta(days=days, seconds=seconds)


def iso(when: datetime) -> str:
    return when.isoformat()


Write = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write text (a .toml or .csv) or rows (a .parquet) into the test's directory."""
    counter = iter(range(10_000))

    def write_(suffix: str, content: str | Sequence[dict[str, Any]] | pl.DataFrame) -> Path:
        path = tmp_path / f"file-{next(counter)}{suffix}"
        if isinstance(content, str):
            path.write_text(content)
        elif isinstance(content, pl.DataFrame):
            content.write_parquet(path)
        else:
            pl.DataFrame(list(content)).write_parquet(path)
        return path

    return write_


def csv(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture
def store(engine: LocalEngine, write: Write) -> LocalEngine:
    """A store with the `customer` entity and the `profile` and `activity` views."""
    engine.apply_features(write(".toml", DEFINITIONS))
    return engine
