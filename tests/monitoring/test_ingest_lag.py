"""The event writer's backlog is bounded in time: a write is refused (503 + Retry-After over
HTTP) while loading what already waits would take the loader longer than the bound."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from core.engine import LocalEngine
from core.errors import Overloaded
from storage.repos import events as repo


def _frame(prefix: str, n: int) -> pl.DataFrame:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [("m", f"{prefix}{i}", now, 1, "production", None, None, None, "1", None, 0.4, 2.0,
             None, "t") for i in range(n)]  # fmt: skip
    return pl.DataFrame(rows, schema=repo.columns("prediction_events"), orient="row")


def _count(engine: LocalEngine) -> int:
    with engine.store.read() as conn:
        return int(conn.scalar("SELECT count(*) FROM prediction_events"))


def test_writes_are_refused_while_the_backlog_would_take_longer_than_the_bound(
    engine: LocalEngine,
) -> None:
    engine.create_model("m", "classification")
    w = engine.writer
    assert w.max_lag_s == 1.0  # the default
    w.write("prediction_events", _frame("a", 2_000))
    w.flush()  # one load of 2,000 rows: the loader's pace is known
    assert w.load_rate is not None and w.load_rate > 0
    # A bound that one more batch of 1,000 fits and two do not.
    w.max_lag_s = 1_500 / w.load_rate
    with engine.store.write():  # the loader cannot load meanwhile: the backlog stays
        assert w.write("prediction_events", _frame("b", 1_000)) == 1_000  # an empty backlog
        with pytest.raises(Overloaded) as refused:
            w.write("prediction_events", _frame("c", 1_000))
        assert "ingest is behind by 1,000 rows" in refused.value.message
        assert f"over the {w.max_lag_s:g} s bound" in refused.value.message
        assert refused.value.retry_after_s >= 1.0
    w.flush()
    assert _count(engine) == 3_000  # the acknowledged rows, and not the refused ones
    assert w.write("prediction_events", _frame("c", 1_000)) == 1_000  # caught up: accepted
