"""Drift of live events against a trained version's stored reference, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from core.engine import LocalEngine
from tests.training.conftest import FAST_CONFIG, HGB_SPACE, wait_for

ROOT = Path(__file__).resolve().parents[2] / "sample_data" / "credit"
MODEL = "credit-default"
HOUR = timedelta(hours=1)
T0 = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    """One model trained once for the module; each test logs into its own hour."""
    tmp = tmp_path_factory.mktemp("drift")
    data = tmp / "credit_small.parquet"
    pl.read_parquet(ROOT / "credit.parquet").head(4000).write_parquet(data)
    config = tmp / "train.toml"
    config.write_text(FAST_CONFIG.format(data=data, algorithm="hist_gradient_boosting",
                                         params="{ max_iter = 40 }", trials=1, space=HGB_SPACE))  # fmt: skip
    engine = LocalEngine.open(tmp / "store", actor="test:drift")
    try:
        engine.create_model(MODEL, "classification", target="default")
        job = wait_for(engine, engine.trigger_training(config, model=MODEL).id)
        assert job.outcome == "validated", job.error
        engine.deploy(MODEL, "v1")
        yield engine
    finally:
        engine.close()


def _log(engine: LocalEngine, path: Path | pl.DataFrame, hour: int, n: int = 1500) -> datetime:
    frame = (path if isinstance(path, pl.DataFrame) else pl.read_parquet(path)).head(n)
    features = frame.drop(["application_id", "applied_at", "default"]).to_dicts()
    at = T0 + hour * HOUR
    engine.log_events(MODEL, [
        {"request_id": f"h{hour}-{i}", "ts": (at + timedelta(seconds=i % 3000)).isoformat(),
         "version": "v1", "prediction": 0, "score": 0.2, "features": f}
        for i, f in enumerate(features)
    ])  # fmt: skip
    return at + HOUR


def test_healthy_traffic_does_not_drift(trained: LocalEngine) -> None:
    end = _log(trained, ROOT / "credit_current.parquet", hour=0)
    version, analysis = trained.drift.detect_drift(MODEL, window=HOUR, end=end)
    assert version == "v1" and analysis.status == "ok" and analysis.current_size == 1500
    assert not analysis.dataset_drift


def test_shifted_features_drift_and_stable_ones_do_not(trained: LocalEngine) -> None:
    end = _log(trained, ROOT / "credit_covariate_drift.parquet", hour=2)
    _, analysis = trained.drift.detect_drift(MODEL, "v1", window=HOUR, end=end)
    drifted = {f.feature for f in analysis.features if f.drifted}
    assert {"credit_utilization", "annual_income", "loan_purpose"} <= drifted
    assert not {"age", "region", "home_ownership"} & drifted


def test_each_feature_reports_its_missing_share_and_unseen_categories(
    trained: LocalEngine,
) -> None:
    frame = pl.read_parquet(ROOT / "credit_current.parquet").head(1500)
    every_tenth = pl.int_range(pl.len()) % 10 == 0
    frame = frame.with_columns(
        pl.when(every_tenth).then(pl.lit("crypto")).otherwise("loan_purpose").alias("loan_purpose"),
        pl.when(every_tenth).then(None).otherwise("age").alias("age"),
    )
    end = _log(trained, frame, hour=6)
    _, analysis = trained.drift.detect_drift(MODEL, "v1", window=HOUR, end=end)
    by = {f.feature: f for f in analysis.features}
    income = frame["annual_income"]
    assert income.null_count() > 0
    assert by["annual_income"].missing_share == income.null_count() / 1500
    assert by["annual_income"].current_missing == income.null_count()
    assert by["age"].missing_share == 0.1 and by["age"].current_size == 1350
    assert by["loan_purpose"].unseen_categories == 1  # "crypto"
    assert by["region"].unseen_categories == 0 and by["has_cosigner"].unseen_categories == 0
    assert by["annual_income"].unseen_categories is None  # numeric: no categories


def test_too_few_events_is_insufficient_data(trained: LocalEngine) -> None:
    end = _log(trained, ROOT / "credit_covariate_drift.parquet", hour=4, n=20)
    _, analysis = trained.drift.detect_drift(MODEL, window=HOUR, end=end)
    assert analysis.status == "insufficient_data" and not analysis.dataset_drift


def test_engine_report_over_the_default_window(trained: LocalEngine) -> None:
    report = trained.detect_drift(MODEL, window_s=60)
    assert report.version == "v1" and report.analysis.status == "insufficient_data"


def test_concept_drift_finds_the_change_in_the_labelled_error_stream(trained: LocalEngine) -> None:
    """Real predictions of v1 on healthy then concept-shifted rows, labels arriving late."""
    at = T0 + 10 * HOUR
    for hour_part, path in enumerate(("credit_current.parquet", "credit_concept_drift.parquet")):
        frame = pl.read_parquet(ROOT / path).head(3000)
        requests = [{"request_id": f"c{hour_part}-{i}", "features": f}
                    for i, f in enumerate(frame.drop(["application_id", "applied_at", "default"]).to_dicts())]  # fmt: skip
        answers = trained.predict(MODEL, requests)
        trained.log_events(MODEL, [
            {"request_id": f"cd{hour_part}-{i}", "ts": (at + timedelta(seconds=hour_part * 3000 + i)).isoformat(),
             "version": "v1", "prediction": a.prediction}
            for i, a in enumerate(answers)
        ])  # fmt: skip
        trained.record_actuals(MODEL, [{"request_id": f"cd{hour_part}-{i}", "actual": y}
                                       for i, y in enumerate(frame["default"].to_list())])  # fmt: skip
    result = trained.drift.concept_drift(MODEL, "v1", window=3 * HOUR, end=at + 2 * HOUR)
    assert result.labelled == 6000 and result.detected
    assert result.page_hinkley and result.page_hinkley[0]["index"] > 3000
    assert result.adwin and all(p["index"] > 2500 for p in result.adwin)
