"""Ingest: every row checked against the view, bad ones named by line, nothing half-written."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from core import audit
from core.engine import LocalEngine
from core.errors import Conflict, InvalidInput, StoreError
from tests.features.conftest import Write, at, csv, iso

HEADER = "customer_id,ts,created,score,tier"


def _rows(engine: LocalEngine) -> int | None:
    return engine.get_feature_view("profile").offline_rows


def test_bad_rows_are_named_by_line_and_nothing_is_stored(store: LocalEngine, write: Write) -> None:
    bad = write(".csv", csv(
        HEADER,
        f"c1,{iso(at(0))},,1.0,a",            # line 2: fine (no created time is allowed)
        f",{iso(at(0))},,1.0,a",              # line 3: no key
        f"c2,{iso(at(0))},,abc,a",            # line 4: not a number
        "c3,last tuesday,,1.0,a",             # line 5: not a time
        f"c4,{iso(at(0))},,inf,a",            # line 6: not finite
        f"c5,{iso(at(0))},soon,1.0,a",        # line 7: created is not a time
        "c6,,,1.0,a",                         # line 8: no event time
    ))  # fmt: skip
    with pytest.raises(InvalidInput) as err:
        store.ingest_features("profile", bad)
    message = err.value.message
    assert "6 bad row(s) for view profile, nothing was stored" in message
    for expected in (
        "line 3: customer_id is empty",
        "line 4: feature 'score' must be a finite number",
        "line 5: ts is not a time",
        "line 6: feature 'score' must be a finite number",
        "line 7: created is not a time",
        "line 8: ts is empty",
    ):
        assert expected in message
    assert "line 2" not in message
    assert [d["line"] for d in err.value.detail] == [3, 4, 5, 6, 7, 8]
    assert _rows(store) == 0
    assert store.list_audit(action="features.ingest") == []

    good = write(".csv", csv(HEADER, f"c1,{iso(at(0))},,1.0,a", f"c2,{iso(at(1))},,2,b"))
    result = store.ingest_features("profile", good)
    assert (result.rows, result.offline_rows, result.version) == (2, 2, 1)
    [record] = store.list_audit(action="features.ingest")
    assert record.target == "profile:v1" and record.after["rows"] == 2


def test_parquet_rows_are_numbered_from_one_and_types_are_checked(
    store: LocalEngine, write: Write
) -> None:
    bad = write(".parquet", pl.DataFrame({
        "customer_id": ["c1", "c2", "c3"], "ts": [at(0), at(1), None],
        "clicks": ["1", "two", "3"], "premium": ["yes", "0", "maybe"],
    }))  # fmt: skip
    with pytest.raises(InvalidInput) as err:
        store.ingest_features("activity", bad)
    assert err.value.detail == [
        {"row": 2, "problem": "feature 'clicks' must be a finite number"},
        {"row": 3, "problem": "ts is empty"},
        {"row": 3, "problem": "feature 'premium' must be true or false (or 1/0)"},
    ]


def test_columns_must_match_the_view(store: LocalEngine, write: Write) -> None:
    with pytest.raises(InvalidInput, match="lacks column\\(s\\) tier that view profile reads"):
        store.ingest_features(
            "profile", write(".csv", csv("customer_id,ts,created,score", "c1,2024-01-01,,1"))
        )
    with pytest.raises(
        InvalidInput, match="has column\\(s\\) extra that view profile does not declare"
    ):
        store.ingest_features(
            "profile", write(".csv", csv(HEADER + ",extra", "c1,2024-01-01,,1,a,x"))
        )
    with pytest.raises(InvalidInput, match="does not exist"):
        store.ingest_features("profile", store.store.home / "nope.csv")
    with pytest.raises(InvalidInput, match="has no rows"):
        store.ingest_features("profile", write(".csv", HEADER + "\n"))
    assert _rows(store) == 0


def test_times_with_a_zone_are_stored_in_utc(store: LocalEngine, write: Write) -> None:
    store.ingest_features("profile", write(".csv", csv(
        HEADER, "c1,2024-01-01T02:00:00+02:00,,1.0,a", "c2,2024-01-01T00:00:00Z,,2.0,b")))  # fmt: skip
    labels = pl.DataFrame({"customer_id": ["c1", "c1", "c2"],
                           "ts": [datetime(2023, 12, 31, 23, 59), at(0), at(0)]})  # fmt: skip
    found = store.get_historical_features(labels, ["profile:score"], timestamp="ts")
    assert found.get_column("score").to_list() == [None, 1.0, 2.0]


def test_a_failure_while_writing_stores_nothing(
    store: LocalEngine, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(audit, "append", broken)
    with pytest.raises(StoreError):
        store.ingest_features("profile", write(".csv", csv(HEADER, f"c1,{iso(at(0))},,1,a")))
    monkeypatch.undo()
    assert _rows(store) == 0
    labels = pl.DataFrame({"customer_id": ["c1"], "ts": [at(1)]})
    assert (
        store.get_historical_features(labels, ["profile:score"], timestamp="ts")["score"][0] is None
    )


def test_a_file_view_cannot_be_ingested_into(engine: LocalEngine, write: Write) -> None:
    source = write(".csv", csv("id,ts,x", "a,2024-01-01,1"))
    engine.apply_features(write(".toml", (
        '[entities.c]\njoin_key = "id"\n[views.v]\nentity = "c"\ntimestamp = "ts"\n'
        f'source = {{ path = "{source}" }}\nfeatures = {{ x = "numeric" }}\n')))  # fmt: skip
    with pytest.raises(Conflict, match="reads its rows from file"):
        engine.ingest_features("v", source)
    assert engine.get_feature_view("v").offline_rows is None


def test_int_keys_are_checked(engine: LocalEngine, write: Write) -> None:
    engine.apply_features(write(".toml", (
        '[entities.c]\njoin_key = "id"\nvalue_type = "int"\n[views.v]\nentity = "c"\n'
        'timestamp = "ts"\nfeatures = { x = "numeric" }\n')))  # fmt: skip
    with pytest.raises(InvalidInput, match="line 3: id is not an integer"):
        engine.ingest_features(
            "v", write(".csv", csv("id,ts,x", "1,2024-01-01,1", "a7,2024-01-01,1"))
        )
    assert engine.ingest_features("v", write(".csv", csv("id,ts,x", " 42 ,2024-01-01,1"))).rows == 1
