"""`mlc drift` and `mlc drift --concept` on a version trained by mlc, in --json and as tables:
the per-feature entries carry the missing share and the unseen-category count."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from core.engine import LocalEngine
from tests.cli.conftest import Mlc
from tests.training.conftest import one_fit_config
from tests.training.conftest import wait_for as wait_for_job

CREDIT = Path(__file__).resolve().parents[2] / "sample_data" / "credit"
MODEL = "credit-default"
N = 400
FEATURE_KEYS = {
    "feature", "kind", "method", "statistic", "p_value", "threshold", "drifted", "psi",
    "reference_size", "current_size", "current_missing", "missing_share", "unseen_categories",
}  # fmt: skip


@pytest.fixture
def store(home: Path, credit_small: Path, tmp_path: Path) -> pl.DataFrame:
    """credit-default v1 trained by mlc and deployed; N predictions of the healthy 2026 rows,
    every tenth with a purpose the training set never had and no age; labels for all."""
    config = tmp_path / "train.toml"
    config.write_text(one_fit_config(credit_small))
    frame = pl.read_parquet(CREDIT / "credit_current.parquet").head(N)
    tenth = pl.int_range(pl.len()) % 10 == 0
    frame = frame.with_columns(
        pl.when(tenth).then(pl.lit("crypto")).otherwise("loan_purpose").alias("loan_purpose"),
        pl.when(tenth).then(None).otherwise("age").alias("age"),
    )
    engine = LocalEngine.open(home, actor="test:drift-cli")
    try:
        engine.create_model(MODEL, "classification", target="default")
        job = wait_for_job(engine, engine.trigger_training(config, model=MODEL).id)
        assert job.outcome == "validated", job.error
        engine.deploy(MODEL, "v1")
        features = frame.drop(["application_id", "applied_at", "default"]).to_dicts()
        engine.predict(MODEL, [{"request_id": f"r{i}", "features": f}
                               for i, f in enumerate(features)])  # fmt: skip
        engine.record_actuals(MODEL, [{"request_id": f"r{i}", "actual": y}
                                      for i, y in enumerate(frame["default"].to_list())])  # fmt: skip
    finally:
        engine.close()
    return frame


def test_drift_json_carries_missing_share_and_unseen_categories(
    mlc: Mlc, store: pl.DataFrame
) -> None:
    res = mlc("--json", "drift", MODEL)
    assert res.code == 0, res.err
    doc = res.json
    assert set(doc) == {"model_id", "version", "window_s", "analysis", "end"}
    analysis = doc["analysis"]
    assert analysis["status"] == "ok" and analysis["current_size"] == N
    by = {f["feature"]: f for f in analysis["features"]}
    assert all(set(f) == FEATURE_KEYS for f in by.values())
    assert set(analysis["prediction"]) == FEATURE_KEYS
    assert by["age"]["missing_share"] == 0.1 and by["age"]["current_missing"] == N // 10
    assert by["age"]["unseen_categories"] is None
    assert by["loan_purpose"]["unseen_categories"] == 1
    assert by["region"]["unseen_categories"] == 0 and by["region"]["missing_share"] == 0.0
    income = store["annual_income"]
    assert by["annual_income"]["missing_share"] == pytest.approx(income.null_count() / N)
    # The training set (3,000 rows after the holdout) holds > 1,000 ages: Wasserstein.
    assert by["age"]["method"] == "wasserstein" and by["age"]["reference_size"] > 1000


def test_drift_table_shows_the_new_columns(mlc: Mlc, store: pl.DataFrame) -> None:
    res = mlc("drift", MODEL)
    assert res.code == 0, res.err
    assert "MISSING" in res.out and "UNSEEN" in res.out
    rows = {row.split()[0]: row.split() for row in res.out.splitlines() if row.strip()}
    header = rows["FEATURE"]
    missing, unseen = header.index("MISSING"), header.index("UNSEEN")
    assert (rows["loan_purpose"][missing], rows["loan_purpose"][unseen]) == ("0.0%", "1")
    assert (rows["age"][missing], rows["age"][unseen]) == ("10.0%", "-")


def test_concept_drift_json(mlc: Mlc, store: pl.DataFrame) -> None:
    res = mlc("--json", "drift", MODEL, "--concept")
    assert res.code == 0, res.err
    doc = res.json
    assert set(doc) == {
        "model_id", "version", "labelled", "error_rate", "detected", "adwin", "page_hinkley"
    }  # fmt: skip
    assert doc["labelled"] == N and doc["version"] == "v1"
    assert 0.0 < doc["error_rate"] < 0.5
    for point in doc["adwin"] + doc["page_hinkley"]:
        assert set(point) == {"index", "ts"}
