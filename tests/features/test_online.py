"""The online store: materialize keeps the latest value per entity as of a time, within the
TTL; lookups answer from it."""

from __future__ import annotations

import pytest

from core.engine import LocalEngine
from core.errors import InvalidInput, NotFound
from tests.features.conftest import Write, at
from tests.features.test_point_in_time import ACTIVITY, PROFILE


@pytest.fixture
def history(store: LocalEngine, write: Write) -> LocalEngine:
    store.ingest_features("profile", write(".csv", PROFILE))
    store.ingest_features("activity", write(".csv", ACTIVITY))
    return store


def _scores(engine: LocalEngine, *keys: str) -> list[object]:
    found = engine.get_online_features(["profile:score"], [{"customer_id": k} for k in keys])
    return [r["score"] for r in found.rows]


def test_materialize_keeps_the_latest_value_as_of_its_time(history: LocalEngine) -> None:
    result = history.materialize_features("profile", up_to=at(8))
    assert (result.view, result.version, result.entities) == ("profile", 1, 1)
    # c1: the corrected day-4 value (day 9 is after up_to); c2's day-2 value is 6 days old
    # at up_to, past the 5-day TTL: not online.
    assert _scores(history, "c1", "c2", "nobody") == [2.5, None, None]

    history.materialize_features("profile", up_to=at(9))
    assert _scores(history, "c1") == [3.0]
    history.materialize_features("profile", up_to=at(6))
    assert _scores(history, "c1", "c2") == [2.5, 10.0]  # as of day 6: both, c2 within its TTL

    view = history.get_feature_view("profile")
    assert view.materialized_up_to is not None and view.materialized_up_to.replace(
        tzinfo=None
    ) == at(6)
    assert view.online_entities == 2
    records = history.list_audit(action="features.materialize")
    assert [r.after["entities"] for r in records] == [1, 1, 2]
    assert records[-1].before["entities"] == 1


def test_online_lookup_answers_per_entity_in_order(history: LocalEngine) -> None:
    history.materialize_features("profile", up_to=at(30))
    history.materialize_features("activity", up_to=at(30))
    found = history.get_online_features(
        ["activity:clicks", "profile:tier", "activity:premium"],
        [{"customer_id": "c2"}, {"customer_id": "c1"}],
    )
    assert found.features == ["clicks", "tier", "premium"]
    assert found.rows == [
        {"customer_id": "c2", "clicks": None, "tier": None, "premium": None},
        {"customer_id": "c1", "clicks": 50.0, "tier": None, "premium": True},
    ]  # c1's tier (day 9) is past the TTL at day 30; c2 has no activity at all


def test_a_lookup_picks_the_view_among_views_sharing_keys(history: LocalEngine) -> None:
    """Both views hold c1 (the entity-key index finds both rows): each answers its own."""
    history.materialize_features("profile", up_to=at(6))
    history.materialize_features("activity", up_to=at(30))
    found = history.get_online_features(
        ["profile:score", "activity:clicks"],
        [{"customer_id": k} for k in ("c1", "nobody", "c2", "c1")],
    )
    assert [(r["score"], r["clicks"]) for r in found.rows] == [
        (2.5, 50.0), (None, None), (10.0, None), (2.5, 50.0),
    ]  # fmt: skip


def test_bad_lookups_name_the_problem(history: LocalEngine) -> None:
    with pytest.raises(InvalidInput, match="entity 0 lacks customer_id"):
        history.get_online_features(["profile:score"], [{"id": "c1"}])
    with pytest.raises(InvalidInput, match="at least one entity"):
        history.get_online_features(["profile:score"], [])
    with pytest.raises(NotFound, match="no feature view 'nope'"):
        history.get_online_features(["nope:x"], [{"customer_id": "c1"}])
    with pytest.raises(NotFound, match="no feature view 'nope'"):
        history.materialize_features("nope")


def test_materialize_without_a_time_uses_now(history: LocalEngine) -> None:
    assert history.materialize_features("activity").entities == 1  # no TTL: kept for good
    result = history.materialize_features("profile")  # 2024 values, 5-day TTL: all expired
    assert result.up_to.year >= 2026 and result.entities == 0
