"""Applying definitions: versioned and audited re-applies, incompatible changes refused."""

from __future__ import annotations

import polars as pl
import pytest

from core.engine import LocalEngine
from core.errors import Conflict, InvalidInput
from tests.features.conftest import DEFINITIONS, Write, at, csv, iso


def _actions(engine: LocalEngine) -> list[str]:
    return [r.action for r in engine.list_audit() if r.action.startswith("features.")]


def test_apply_creates_and_an_identical_reapply_changes_nothing(
    engine: LocalEngine, write: Write
) -> None:
    path = write(".toml", DEFINITIONS)
    result = engine.apply_features(path)
    assert [(c.kind, c.name, c.action, c.version) for c in result.applied] == [
        ("entity", "customer", "created", None),
        ("view", "profile", "created", 1),
        ("view", "activity", "created", 1),
    ]
    assert _actions(engine) == [
        "features.entity.create", "features.view.create", "features.view.create"
    ]  # fmt: skip
    created = next(r for r in engine.list_audit() if r.action == "features.view.create")
    assert created.target == "profile:v1" and created.after["ttl_s"] == 5 * 86400
    again = engine.apply_features(path)
    assert {c.action for c in again.applied} == {"unchanged"}
    assert len(_actions(engine)) == 3
    catalog = engine.feature_catalog()
    assert [e.join_key for e in catalog.entities] == ["customer_id"]
    assert [(v.name, v.version, v.offline_rows) for v in catalog.views] == [
        ("activity", 1, 0), ("profile", 1, 0)
    ]  # fmt: skip
    assert engine.verify_audit().ok


def test_a_compatible_change_is_a_new_audited_version(store: LocalEngine, write: Write) -> None:
    store.ingest_features("profile", write(".csv", csv(
        "customer_id,ts,created,score,tier", f"c1,{iso(at(0))},{iso(at(0))},1.0,a")))  # fmt: skip
    changed = DEFINITIONS.replace('ttl = "5d"', 'ttl = "30d"').replace(
        'tier = "categorical" }', 'tier = "categorical", balance = "numeric" }'
    )
    result = store.apply_features(write(".toml", changed))
    profile = next(c for c in result.applied if c.name == "profile")
    assert (profile.action, profile.version) == ("updated", 2)
    assert profile.changes == ["ttl 5d → 30d", "added feature balance (numeric)"]
    record = store.list_audit(action="features.view.update")[-1]
    assert record.target == "profile:v2" and record.before["ttl_s"] == 5 * 86400
    assert record.reason == "ttl 5d → 30d; added feature balance (numeric)"

    view = store.get_feature_view("profile")
    assert view.version == 2 and [f.name for f in view.features] == ["score", "tier", "balance"]
    assert [(h.version, h.changes) for h in view.history] == [
        (1, ["created"]), (2, ["ttl 5d → 30d", "added feature balance (numeric)"])
    ]  # fmt: skip
    old = store.get_feature_view("profile", version=1)
    assert old.ttl_s == 5 * 86400 and [f.name for f in old.features] == ["score", "tier"]

    # Rows stored before the change have no value for the new feature; new rows do.
    store.ingest_features("profile", write(".csv", csv(
        "customer_id,ts,created,score,tier,balance", f"c2,{iso(at(0))},{iso(at(0))},2.0,b,99")))  # fmt: skip
    labels = pl.DataFrame({"customer_id": ["c1", "c2"], "ts": [at(1), at(1)]})
    found = store.get_historical_features(labels, ["profile:*"], timestamp="ts")
    assert found.select("score", "balance").rows() == [(1.0, None), (2.0, 99.0)]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('score = "numeric"', 'score = "categorical"'),
         "view profile: changing feature score from numeric to categorical is incompatible"),
        (('score = "numeric", ', ""), "view profile: removing feature score is incompatible"),
        (('join_key = "customer_id"', 'join_key = "cust_id"'),
         "entity customer: changing its join key from customer_id to cust_id is incompatible"),
        (('[views.activity]\nentity = "customer"',
          '[entities.shop]\njoin_key = "shop_id"\n\n[views.activity]\nentity = "shop"'),
         "view activity: changing its entity from customer to shop is incompatible"),
    ],
)  # fmt: skip
def test_an_incompatible_change_refuses_the_whole_file(
    store: LocalEngine, write: Write, edit: tuple[str, str], message: str
) -> None:
    before = len(store.list_audit())
    # The same file also makes a compatible change (activity's TTL): nothing is applied.
    text = DEFINITIONS.replace(*edit).replace(
        'timestamp = "ts"\nfeatures = { clicks', 'timestamp = "ts"\nttl = "1d"\nfeatures = { clicks'
    )
    with pytest.raises(Conflict, match="refused, nothing was applied") as err:
        store.apply_features(write(".toml", text))
    assert message in err.value.message and "declare a new" in err.value.message
    assert len(store.list_audit()) == before
    assert {v.name: v.version for v in store.feature_catalog().views} == {
        "activity": 1, "profile": 1
    }  # fmt: skip
    assert store.get_feature_view("activity").ttl_s is None


def test_moving_a_view_between_the_store_and_a_file_is_refused(
    store: LocalEngine, write: Write
) -> None:
    source = write(".csv", csv("customer_id,ts,clicks,premium", f"c1,{iso(at(0))},1,1"))
    text = DEFINITIONS.replace(
        '[views.activity]\nentity = "customer"',
        f'[views.activity]\nentity = "customer"\nsource = {{ path = "{source}" }}',
    )
    with pytest.raises(Conflict, match="moving its source from the store to file"):
        store.apply_features(write(".toml", text))


def test_dry_run_shows_the_plan_and_writes_nothing(engine: LocalEngine, write: Write) -> None:
    result = engine.apply_features(write(".toml", DEFINITIONS), dry_run=True)
    assert result.dry_run and [c.action for c in result.applied] == ["created"] * 3
    assert engine.feature_catalog().views == [] and _actions(engine) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[entities.c]\njoin_key = \"id\"\nkey = 1\n", "unknown key 'key' in [entities.c]"),
        ("[entity.c]\njoin_key = \"id\"\n", "unknown section [entity]"),
        ("[entities.Customer]\njoin_key = \"id\"\n", "invalid entity name 'Customer'"),
        ("[entities.c]\njoin_key = \"id\"\nvalue_type = \"uuid\"\n", "value_type must be string or int"),
        ("[entities.c]\njoin_key = \"id\"\n[views.v]\nentity = \"c\"\ntimestamp = \"ts\"\n",
         "needs features = "),
        ("[entities.c]\njoin_key = \"id\"\n[views.v]\nentity = \"c\"\ntimestamp = \"ts\"\n"
         "features = { when = \"datetime\" }\n", "numeric, categorical or binary"),
        ("[entities.c]\njoin_key = \"id\"\n[views.v]\nentity = \"c\"\ntimestamp = \"ts\"\n"
         "ttl = \"soon\"\nfeatures = { x = \"numeric\" }\n", "invalid duration 'soon'"),
        ("[views.v]\nentity = \"ghost\"\ntimestamp = \"ts\"\nfeatures = { x = \"numeric\" }\n",
         "entity 'ghost' is not declared"),
        ("[entities.c]\njoin_key = \"id\"\n[views.v]\nentity = \"c\"\ntimestamp = \"ts\"\n"
         "source = { path = \"missing.parquet\" }\nfeatures = { x = \"numeric\" }\n",
         "does not exist"),
        ("[entities.c]\njoin_key = \"id\"\n[views.v]\nentity = \"c\"\ntimestamp = \"ts\"\n"
         "features = { id = \"numeric\" }\n", "is the entity's join key"),
        ("not toml [", "not valid TOML"),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused_naming_the_problem(
    engine: LocalEngine, write: Write, text: str, message: str
) -> None:
    with pytest.raises((InvalidInput, Conflict)) as err:
        engine.apply_features(write(".toml", text))
    assert message in err.value.message
    assert engine.feature_catalog().views == []


def test_a_file_source_must_have_the_columns_it_declares(engine: LocalEngine, write: Write) -> None:
    source = write(".csv", csv("id,ts,x", "a,2024-01-01,1"))
    text = (
        '[entities.c]\njoin_key = "id"\n[views.v]\nentity = "c"\ntimestamp = "ts"\n'
        f'source = {{ path = "{source}" }}\nfeatures = {{ x = "numeric", y = "numeric" }}\n'
    )
    with pytest.raises(InvalidInput, match="lacks column\\(s\\) y that view v reads"):
        engine.apply_features(write(".toml", text))
