"""The feature store through a real `mlc serve` on 127.0.0.1: RemoteEngine and raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pytest

from app.client import RemoteEngine
from core.engine import LocalEngine
from core.errors import Conflict, InvalidInput
from tests.e2e.server import Server
from tests.features.conftest import SAMPLE
from tests.features.test_training_serving import (
    CREDIT,
    LABELS,
    UP_TO,
    check_prediction_by_entity,
    sample_store,
)
from tests.training.conftest import wait_for


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[RemoteEngine, str]]:
    home = tmp_path / "store"
    engine = LocalEngine.open(home, actor="test:alice")
    try:
        config = sample_store(engine, tmp_path)
        job = wait_for(engine, engine.trigger_training(config).id)
        assert job.result_version == "v1", job.error
        engine.deploy("credit-fs", "v1", reason="from the feature store")
    finally:
        engine.close()
    server = Server(home).start()
    remote = RemoteEngine(url=server.url)
    try:
        yield remote, server.url
    finally:
        remote.close()
        server.stop()


def test_the_feature_store_over_http(served: tuple[RemoteEngine, str], tmp_path: Path) -> None:
    remote, url = served
    plan = remote.apply_features(SAMPLE / "features.toml", dry_run=True)
    assert {c.action for c in plan.applied} == {"unchanged"}
    catalog = remote.feature_catalog()
    assert [v.name for v in catalog.views] == [
        "credit_bureau",
        "customer_profile",
        "loan_application",
    ]
    view = remote.get_feature_view("customer_profile")
    assert view.offline_rows == 36_000 and [h.version for h in view.history] == [1]
    for name in ("customer_profile", "credit_bureau", "loan_application"):
        result = remote.materialize_features(name, up_to=UP_TO)
        assert result.entities == 12_000 and result.up_to.replace(tzinfo=None) == UP_TO

    check_prediction_by_entity(remote)
    customer = pl.read_parquet(LABELS).get_column("customer_id")[-1]
    answer = httpx.post(f"{url}/v1/models/credit-fs/predict", json={"entity": customer}).json()
    assert answer["version"] == "v1" and set(answer["probabilities"]) == {"0", "1"}

    labels = pl.read_parquet(LABELS).head(50)
    found = remote.get_historical_features(labels, ["customer_profile:*"], timestamp="applied_at")
    assert found.select(labels.columns).equals(labels)
    truth = pl.read_parquet(CREDIT).head(50)
    assert found.get_column("annual_income").equals(truth["annual_income"])
    assert found.get_column("home_ownership").equals(truth["home_ownership"])

    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,applied_at,loan_amount,loan_purpose,region,has_cosigner\n"
                   "c1,2025-01-01,lots,car,north,false\n")  # fmt: skip
    with pytest.raises(InvalidInput, match="line 2: feature 'loan_amount' must be a finite number"):
        remote.ingest_features("loan_application", bad)
    with pytest.raises(Conflict, match="reads its rows from file"):
        remote.ingest_features("credit_bureau", SAMPLE / "bureau_history.parquet")
    assert remote.get_feature_view("loan_application").offline_rows == 12_000
