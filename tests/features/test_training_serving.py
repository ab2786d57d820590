"""Training from the feature store (lineage names the views and their versions) and
predicting by entity id from the materialized values — on the sample feature store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from core.engine import LocalEngine
from core.errors import InvalidInput
from tests.features.conftest import SAMPLE
from tests.training.conftest import wait_for

CREDIT = SAMPLE.parent / "credit" / "credit.parquet"
LABELS = SAMPLE / "labels.parquet"
REFS = ["customer_profile:*", "credit_bureau:*", "loan_application:*"]
FEATURES = ["age", "annual_income", "months_employed", "home_ownership", "debt_to_income",
            "credit_utilization", "num_late_payments_12m", "num_open_accounts", "loan_amount",
            "loan_purpose", "region", "has_cosigner"]  # fmt: skip
UP_TO = datetime(2026, 1, 1)

CONFIG = """
[model]
name = "credit-fs"
task = "classification"

[data]
entities = "{labels}"
target = "default"
timestamp = "applied_at"
features = {refs}

[split]
method = "time"
holdout = 0.25

[algorithm]
name = "hist_gradient_boosting"
params = {{ max_iter = 20, max_depth = 3 }}

[gates]
min = {{ roc_auc = 0.6 }}
"""


def sample_store(engine: Any, tmp: Path) -> Path:
    """Apply the sample definitions, ingest its store views, create the model; the config."""
    engine.apply_features(SAMPLE / "features.toml")
    engine.ingest_features("customer_profile", SAMPLE / "profile_history.parquet")
    engine.ingest_features("loan_application", SAMPLE / "applications.parquet")
    engine.create_model("credit-fs", "classification", target="default")
    config = tmp / "credit_fs.toml"
    config.write_text(CONFIG.format(labels=LABELS, refs=json.dumps(REFS)))
    return config


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalEngine, Path]]:
    tmp = tmp_path_factory.mktemp("fs")
    engine = LocalEngine.open(tmp / "store", actor="test:alice")
    try:
        config = sample_store(engine, tmp)
        job = wait_for(engine, engine.trigger_training(config).id)
        assert job.status == "succeeded" and job.result_version == "v1", job.error
        yield engine, config
    finally:
        engine.close()


def test_a_model_trained_from_the_store_records_its_views_and_their_versions(
    trained: tuple[LocalEngine, Path],
) -> None:
    engine, _ = trained
    v1 = engine.get_version("credit-fs", "v1")
    assert v1.status == "validated"
    assert v1.signature["inputs"] == FEATURES
    lineage = (v1.training or {})["feature_store"]
    assert lineage == {
        "entities": str(LABELS),
        "entities_sha256": hashlib.sha256(LABELS.read_bytes()).hexdigest(),
        "timestamp": "applied_at",
        "features": [f"{v}:{f}" for v, fs in (("customer_profile", FEATURES[:4]),
                     ("credit_bureau", FEATURES[4:8]), ("loan_application", FEATURES[8:]))
                     for f in fs],
        "views": {"customer_profile": 1, "credit_bureau": 1, "loan_application": 1},
        "rows": 12_000,
    }  # fmt: skip
    # The data hash is the sha256 of exactly the training set the worker read, lineage included.
    rebuilt = engine.features.training_set(LABELS, REFS, timestamp="applied_at", target="default")
    assert v1.training_data_hash == hashlib.sha256(rebuilt.data).hexdigest()
    [trigger] = engine.list_audit(action="training.trigger")
    assert "customer_profile v1" in trigger.after["data"]


def test_the_training_set_holds_the_values_of_application_time_never_later_ones(
    trained: tuple[LocalEngine, Path],
) -> None:
    engine, _ = trained
    labels = pl.read_parquet(LABELS)
    got = engine.get_historical_features(labels, REFS, timestamp="applied_at")
    truth = pl.read_parquet(CREDIT).head(labels.height)
    # Profiles and loans: exactly the values at application (the store also holds snapshots
    # months later in which defaulters have lost their job and income).
    for column in ("age", "annual_income", "months_employed", "home_ownership", "loan_amount",
                   "loan_purpose", "region", "has_cosigner"):  # fmt: skip
        assert got.get_column(column).cast(truth[column].dtype).equals(truth[column]), column
    # Bureau: corrected reports win over the first ones; customers whose only report before
    # the application is over a year old (the TTL) have none.
    expired = got.get_column("debt_to_income").is_null() & truth["debt_to_income"].is_not_null()
    assert 0.03 < expired.mean() < 0.07  # type: ignore[operator]
    for column in ("debt_to_income", "credit_utilization", "num_late_payments_12m"):
        kept = got.filter(~expired).get_column(column)
        assert kept.equals(truth.filter(~expired)[column].cast(pl.Float64)), column


def test_a_new_view_version_shows_in_the_lineage_and_the_hash(
    trained: tuple[LocalEngine, Path], tmp_path: Path
) -> None:
    engine, config = trained
    text = (SAMPLE / "features.toml").read_text().replace('ttl = "730d"', 'ttl = "731d"')
    changed = tmp_path / "features.toml"
    changed.write_text(
        text.replace('"bureau_history.parquet"', f'"{SAMPLE / "bureau_history.parquet"}"')
    )
    assert [c.action for c in engine.apply_features(changed).applied if c.kind == "view"] == [
        "updated", "unchanged", "unchanged"
    ]  # fmt: skip
    job = wait_for(engine, engine.trigger_training(config).id)
    v2 = engine.get_version("credit-fs", job.result_version or "")
    assert (v2.training or {})["feature_store"]["views"]["customer_profile"] == 2
    assert v2.training_data_hash != engine.get_version("credit-fs", "v1").training_data_hash


def _probabilities(engine: Any, requests: list[dict[str, Any]]) -> list[dict[str, float]]:
    return [p.probabilities or {} for p in engine.predict("credit-fs", requests)]


def check_prediction_by_entity(engine: Any) -> None:
    """A prediction by entity id uses the materialized values; explicit features win."""
    ids = pl.read_parquet(LABELS).get_column("customer_id").to_list()[-3:]
    online = engine.get_online_features(REFS, [{"customer_id": i} for i in ids])
    assert online.features == FEATURES
    assert all(row["age"] is not None for row in online.rows)
    values = [{f: row[f] for f in FEATURES} for row in online.rows]
    explicit = _probabilities(engine, [{"features": v} for v in values])
    assert _probabilities(engine, [{"entity": i} for i in ids]) == explicit
    assert _probabilities(engine, [{"entity": {"customer_id": i}} for i in ids]) == explicit
    poorer = [{**v, "annual_income": 1000.0, "num_late_payments_12m": 9.0} for v in values]
    overridden = _probabilities(engine, [
        {"entity": i, "features": {"annual_income": 1000.0, "num_late_payments_12m": 9.0}}
        for i in ids
    ])  # fmt: skip
    assert overridden == _probabilities(engine, [{"features": v} for v in poorer])
    assert overridden != explicit
    with pytest.raises(InvalidInput, match="item 1: entity customer_id must be a non-empty"):
        engine.predict("credit-fs", [{"entity": ids[0]}, {"entity": {"customer_id": ""}}])
    with pytest.raises(InvalidInput, match="item 0: entity lacks customer_id"):
        engine.predict("credit-fs", [{"entity": {"id": ids[0]}}])


def test_a_prediction_by_entity_id_uses_the_materialized_values(
    trained: tuple[LocalEngine, Path], artifact_bytes: bytes
) -> None:
    engine, _ = trained
    engine.deploy("credit-fs", "v1", reason="from the feature store")
    for view in ("customer_profile", "credit_bureau", "loan_application"):
        engine.materialize_features(view, up_to=UP_TO)
    check_prediction_by_entity(engine)
    [answer] = engine.predict("credit-fs", [{"entity": "cus_d2352c61923e", "request_id": "fs-1"}])
    assert answer.version == "v1"
    with engine.store.read() as conn:
        logged = json.loads(conn.scalar(
            "SELECT features FROM prediction_events WHERE request_id = 'fs-1'"))  # fmt: skip
    assert set(logged) == set(FEATURES) and logged["loan_purpose"] is not None
    unknown = engine.predict("credit-fs", [{"entity": "cus_nobody"}])  # all null: imputed
    assert unknown[0].version == "v1"

    engine.create_model("plain", "classification", target="default")
    engine.register_version("plain", artifact_bytes, algorithm="logistic_regression")
    engine.transition_version("plain", "v1", "validated")
    engine.deploy("plain", "v1")
    with pytest.raises(InvalidInput, match="not trained from the feature store"):
        engine.predict("plain", [{"entity": "c1"}])
