"""`feature_distribution` and the fleet's drift share over real traffic of a trained version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from core.engine import LocalEngine
from core.errors import InvalidInput, NotFound
from core.fromjson import load
from core.jsonable import to_jsonable
from core.monitoring.drift import FeatureDistribution
from core.stats.distribution import OTHER
from storage.repos import training as training_repo
from tests.training.conftest import one_fit_config, wait_for

ROOT = Path(__file__).resolve().parents[2] / "sample_data" / "credit"
MODEL = "credit-default"
HOUR = timedelta(hours=1)
T0 = datetime(2026, 6, 1, tzinfo=UTC)
N = 1500


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, credit_small: Path) -> Iterator[LocalEngine]:
    """A trained, deployed v1 with healthy traffic just now (the last minute)."""
    tmp = tmp_path_factory.mktemp("distribution")
    config = tmp / "train.toml"
    config.write_text(one_fit_config(credit_small))
    engine = LocalEngine.open(tmp / "store", actor="test:fleet")
    try:
        engine.create_model(MODEL, "classification", target="default")
        job = wait_for(engine, engine.trigger_training(config, model=MODEL).id)
        assert job.outcome == "validated", job.error
        engine.deploy(MODEL, "v1")
        engine.log_events(MODEL, _events(ROOT / "credit_current.parquet", "now"))
        yield engine
    finally:
        engine.close()


def _current(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path).head(N).drop(["application_id", "applied_at", "default"])


def _events(path: Path, prefix: str, at: datetime | None = None) -> list[dict[str, object]]:
    return [
        {"request_id": f"{prefix}-{i}", "version": "v1", "prediction": 0, "score": 0.2,
         "features": f, **({"ts": (at + timedelta(seconds=i)).isoformat()} if at else {})}
        for i, f in enumerate(_current(path).to_dicts())
    ]  # fmt: skip


def _shares_on(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """An independent binning: numpy's histogram after clipping to the edges."""
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=np.asarray(edges))
    return counts / len(values)


def test_numeric_reference_and_current_on_common_bins(trained: LocalEngine) -> None:
    d = trained.feature_distribution(MODEL, "annual_income", window_s=3600, bins=12)
    assert (d.model_id, d.version, d.feature, d.kind) == (MODEL, "v1", "annual_income", "numeric")
    assert d.categories == [] and len(d.edges) == 13 and d.edges == sorted(d.edges)
    assert len(d.reference) == len(d.current) == 12
    assert sum(d.reference) == pytest.approx(1.0) and sum(d.current) == pytest.approx(1.0)
    income = _current(ROOT / "credit_current.parquet")["annual_income"]
    assert d.current_count == income.drop_nulls().len() and d.current_missing == income.null_count()
    assert d.current_missing > 0 and d.current_count + d.current_missing == N
    with trained.store.read() as conn:
        sample = np.asarray(training_repo.reference_samples(conn, f"{MODEL}:v1")["annual_income"])
        profile = json.loads(training_repo.profile(conn, f"{MODEL}:v1") or "{}")
    assert d.reference_count == profile["features"]["annual_income"]["count"] > 1000
    assert d.reference == pytest.approx(list(_shares_on(sample, d.edges)))
    assert d.current == pytest.approx(list(_shares_on(income.drop_nulls().to_numpy(), d.edges)))
    assert d.drift is not None and d.drift.feature == "annual_income"
    assert d.drift.method == "wasserstein" and d.drift.threshold == 0.1 and not d.drift.drifted
    assert d.status == "ok"


def test_categorical_and_binary_shares(trained: LocalEngine) -> None:
    current = _current(ROOT / "credit_current.parquet")
    d = trained.feature_distribution(MODEL, "loan_purpose")
    assert d.kind == "categorical" and d.edges == [] and len(d.categories) <= 16
    assert sum(d.reference) == pytest.approx(1.0) and sum(d.current) == pytest.approx(1.0)
    with trained.store.read() as conn:
        profile = json.loads(training_repo.profile(conn, f"{MODEL}:v1") or "{}")
    freqs = profile["features"]["loan_purpose"]["frequencies"]
    counts = current["loan_purpose"].value_counts()
    for category, ref, cur in zip(d.categories, d.reference, d.current, strict=True):
        if category != OTHER:
            assert ref == pytest.approx(freqs.get(category, 0.0))
            n = counts.filter(pl.col("loan_purpose") == category)["count"].sum()
            assert cur == pytest.approx(n / N)
    assert d.drift is not None and d.drift.method == "jensen_shannon" and not d.drift.drifted
    b = trained.feature_distribution(MODEL, "has_cosigner")
    assert b.kind == "binary" and set(b.categories) <= {"0", "1"}
    assert b.current[b.categories.index("1")] == pytest.approx(current["has_cosigner"].mean())


def test_a_shifted_window_shows_and_flags_the_drift(trained: LocalEngine) -> None:
    at = T0 + 2 * HOUR
    trained.log_events(MODEL, _events(ROOT / "credit_covariate_drift.parquet", "shift", at))
    d = trained.drift.feature_distribution(MODEL, "annual_income", window=HOUR, end=at + HOUR)
    assert d.current_count + d.current_missing == N and d.drift is not None and d.drift.drifted
    centres = (np.asarray(d.edges[:-1]) + np.asarray(d.edges[1:])) / 2
    shift = float(centres @ np.asarray(d.current)) - float(centres @ np.asarray(d.reference))
    healthy = _current(ROOT / "credit_current.parquet")["annual_income"].mean()
    shifted = _current(ROOT / "credit_covariate_drift.parquet")["annual_income"].mean()
    assert shift * (shifted - healthy) > 0 and abs(shift) > 0.1 * healthy  # type: ignore[operator]


def test_no_current_data_is_empty_not_an_error(trained: LocalEngine) -> None:
    for feature in ("age", "region"):
        d = trained.drift.feature_distribution(MODEL, feature, "v1", window=HOUR, end=T0)
        assert d.current == [] and d.current_count == 0 and d.reference
        assert d.drift is None and d.status == "insufficient_data"


def test_unknown_feature_and_bad_arguments(trained: LocalEngine) -> None:
    with pytest.raises(NotFound, match=r"'income'.*annual_income"):
        trained.feature_distribution(MODEL, "income")
    with pytest.raises(NotFound):
        trained.feature_distribution("nope", "age")
    with pytest.raises(InvalidInput):
        trained.feature_distribution(MODEL, "age", bins=0)
    with pytest.raises(InvalidInput):
        trained.feature_distribution(MODEL, "age", window_s=0)


def test_round_trips_through_json(trained: LocalEngine) -> None:
    for feature in ("age", "region", "has_cosigner"):
        d = trained.feature_distribution(MODEL, feature)
        assert load(FeatureDistribution, json.loads(json.dumps(to_jsonable(d)))) == d


def test_fleet_drift_share_of_the_serving_version(trained: LocalEngine) -> None:
    [row] = trained.fleet_status(300)
    assert row.requests == N and row.drift_version == "v1"
    assert row.drift_status == "ok" and row.drift_share == 0.0
