"""How many events are new, known at write time: the keys a write claims (`SeenKeys`) against
the store's and every earlier write's, exact for writes in sequence and concurrent ones alike,
given back when a write fails; and what a log-only event must fit (`Fits`), the same on the
column-wise path and the item-by-item one."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from core.domain import Task
from core.engine import LocalEngine
from core.errors import InvalidInput, Overloaded
from core.events import fields as req
from core.events import frames, seen_keys
from core.events.seen_keys import SeenKeys
from storage.repos import events as events_repo
from tests.serving.conftest import MODEL


def _stored(engine: LocalEngine, table: str = "prediction_events") -> int:
    with engine.store.read() as conn:
        return events_repo.count(conn, table, MODEL)


def _events(ids: list[int] | range, **fields: object) -> list[dict[str, object]]:
    return [{"request_id": f"e-{i}", "version": "v1", "prediction": 1, **fields} for i in ids]


def test_key_highs_are_the_high_half_of_duckdbs_event_key() -> None:
    ids = ["r-1", "é-ü/ß", "x" * 300, "42"]
    con = duckdb.connect()
    expected = [
        con.execute("SELECT (md5_number(? || chr(31) || ?) >> 64)::UBIGINT", ["m-1", i]).fetchall()[0][0]
        for i in ids
    ]  # fmt: skip
    assert events_repo.key_highs(["m-1"] * 4, ids).tolist() == expected


def test_claims_count_each_key_once_until_given_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seen_keys, "MERGE_AT", 2)  # merge into the sorted array early
    reads: list[str] = []

    def stored(table: str) -> np.ndarray:
        reads.append(table)
        return np.array([5, 1], dtype=np.uint64)

    seen = SeenKeys(stored)
    keys = np.array
    first = seen.claim("actuals", keys([1, 2, 2, 3], dtype=np.uint64))
    assert first.new == 2 and sorted(first.keys.tolist()) == [2, 3]
    assert seen.claim("actuals", keys([3, 4], dtype=np.uint64)).new == 1  # 3 pending: taken
    seen.release(first)
    again = seen.claim("actuals", keys([2, 3], dtype=np.uint64))
    assert again.new == 2
    seen.confirm(again)  # 2 and 3 merged into the array (MERGE_AT 2)
    assert seen.claim("actuals", keys([2, 3, 5, 6], dtype=np.uint64)).new == 1
    assert reads == ["actuals"]  # the store is read once per table


def test_new_counts_are_exact_after_a_restart_and_across_paths(
    served: LocalEngine, home: Path
) -> None:
    assert served.log_events(MODEL, _events(range(10))).new == 10
    served.predict(MODEL, [{"request_id": "p-1", "features": {"age": 30, "region": "north"}}])
    served.close()
    engine = LocalEngine.open(home)
    try:
        found = engine.log_events(MODEL, [*_events([*range(5, 15), 5]), {"request_id": "p-1"}])
        assert (found.received, found.new, found.duplicates) == (12, 5, 7)
        assert _stored(engine) == 16
        found = engine.record_actuals(
            MODEL, [{"request_id": f"e-{i}", "actual": 1} for i in (1, 1, 2)]
        )
        assert (found.new, found.duplicates) == (2, 1)
    finally:
        engine.close()


def test_concurrent_batches_with_the_same_ids_count_each_new_once(served: LocalEngine) -> None:
    batches = [_events(range(k * 50, k * 50 + 400)) for k in range(8)]  # overlapping ids
    found: list[int] = []
    start = threading.Barrier(len(batches))

    def send(batch: list[dict[str, object]]) -> None:
        start.wait()
        found.append(served.log_events(MODEL, batch).new)

    threads = [threading.Thread(target=send, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    distinct = len({e["request_id"] for b in batches for e in b})
    assert sum(found) == distinct == _stored(served)


def test_a_refused_write_gives_its_claims_back(served: LocalEngine) -> None:
    served.writer.max_pending = 0
    with pytest.raises(Overloaded):
        served.log_events(MODEL, _events(range(3)))
    served.writer.max_pending = 500_000
    assert served.log_events(MODEL, _events(range(3))).new == 3


def test_the_event_window_comes_from_the_environment() -> None:
    window = req.EventWindow.from_env({"MLC_EVENT_MAX_AGE": "30d", "MLC_EVENT_MAX_AHEAD": "1h"})
    assert window == req.EventWindow(timedelta(days=30), timedelta(hours=1))
    assert req.EventWindow.from_env({}) == req.EventWindow()
    with pytest.raises(InvalidInput, match="MLC_EVENT_MAX_AGE: invalid duration 'a year'"):
        req.EventWindow.from_env({"MLC_EVENT_MAX_AGE": "a year"})


def test_a_configured_window_is_what_the_engine_enforces(
    home: Path, artifact_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLC_EVENT_MAX_AGE", "30d")
    engine = LocalEngine.open(home)
    try:
        engine.create_model(MODEL, "regression")
        old = (datetime.now() - timedelta(days=40)).isoformat()
        with pytest.raises(InvalidInput, match=r"item 0: ts .* at most 30d before"):
            engine.log_events(MODEL, [{"request_id": "a", "ts": old, "prediction": 1.5}])
    finally:
        engine.close()


FITS = req.Fits("m", versions=2, classes=frozenset({"0", "1"}))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"version": "v3"}, "item 2: version v3 does not exist: model 'm' has v1 to v2"),
        ({"prediction": 7}, "item 2: prediction '7' is not a class of model 'm'"),
        ({"ts": "1900-01-01T00:00:00"}, "item 2: ts 1900-01-01T00:00:00 is out of range"),
        ({"environment": "qa"}, "item 2: unknown environment 'qa'"),
        ({"unit_id": "u" * 201}, "item 2: unit_id is 201 characters long; at most 200"),
        ({"arm": "a" * 201}, "item 2: arm is 201 characters long"),
        ({"error": "e" * 1001}, "item 2: error is 1,001 characters long; at most 1,000"),
    ],
)
def test_both_ingest_paths_refuse_the_same_item(bad: dict[str, object], message: str) -> None:
    items = _events(range(5))
    items[2] = {**items[2], **bad}
    with pytest.raises(InvalidInput, match=message):
        frames.events_frame(MODEL, Task.CLASSIFICATION, {}, items, fits=FITS)
    with pytest.raises(InvalidInput, match=message):
        frames.events_frame_fast(MODEL, Task.CLASSIFICATION, {}, items, fits=FITS)
    import orjson

    with pytest.raises(InvalidInput, match=message):
        frames.events_frame_fast(MODEL, Task.CLASSIFICATION, {}, orjson.dumps(items), fits=FITS)
    fine = frames.events_frame_fast(MODEL, Task.CLASSIFICATION, {}, _events(range(5)), fits=FITS)
    assert fine.height == 5
