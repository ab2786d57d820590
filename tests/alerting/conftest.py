from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.alerting import AlertManager
from storage.repos import models as models_repo
from storage.store import Store

MODEL = "credit-default"
OTHER = "churn"
T0 = datetime(2025, 1, 1, 3, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> datetime:
        self.t += timedelta(seconds=seconds)
        return self.t


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.open(tmp_path / "store")
    with st.write() as conn:
        for name in (MODEL, OTHER):
            models_repo.insert(
                conn,
                {
                    "id": name,
                    "task": "classification",
                    "target": "y",
                    "features": "[]",
                    "description": "",
                    "created_at": T0,
                    "created_by": "test",
                },
            )
    try:
        yield st
    finally:
        st.close()


@pytest.fixture
def manager(store: Store, clock: FakeClock) -> Iterator[AlertManager]:
    mgr = AlertManager(store, now=clock, backoff_base_s=5, backoff_max_s=60, max_attempts=4)
    try:
        yield mgr
    finally:
        mgr.close()


class Values:
    """A settable metric source: `values[rule_id] = (value, samples)` or None."""

    def __init__(self) -> None:
        self.by_rule: dict[str, tuple[float | None, int] | None] = {}
        self.calls: list[str] = []

    def set(self, rule_id: str, value: float | None, samples: int = 500) -> None:
        self.by_rule[rule_id] = None if value is None else (value, samples)

    def __call__(self, rule: object) -> tuple[float | None, int] | None:
        rid = rule.id  # type: ignore[attr-defined]
        self.calls.append(rid)
        return self.by_rule.get(rid)


@pytest.fixture
def values() -> Values:
    return Values()
