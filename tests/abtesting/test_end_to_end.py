"""End to end on sample data: two trained versions with a real quality difference, traffic
through the prediction path, late labels, analysis, promotion, audit."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from core.abtesting import ABTestConfig
from core.engine import LocalEngine
from tests.training.conftest import FAST_CONFIG, HGB_SPACE, wait_for

ROOT = Path(__file__).resolve().parents[2] / "sample_data" / "credit"
MODEL = "credit-default"


def _config(tmp: Path, name: str, data: Path, *, weak: bool) -> Path:
    text = FAST_CONFIG.format(
        data=data, algorithm="logistic_regression" if weak else "hist_gradient_boosting",
        params="{ C = 1.0 }" if weak else "{ max_iter = 60 }", trials=1,
        space="C = { choices = [1.0] }" if weak else HGB_SPACE,
    )  # fmt: skip
    if weak:  # two features, one of them noise: clearly worse, but it passes its own gates
        text = text.replace(
            'exclude = ["application_id"]', 'features = ["region", "num_late_payments_12m"]'
        )
        text = text.replace("min = { roc_auc = 0.6 }", "min = { roc_auc = 0.5 }")
    path = tmp / f"{name}.toml"
    path.write_text(text)
    return path


def test_ab_test_finds_and_promotes_the_better_version(engine: LocalEngine, tmp_path: Path) -> None:
    data = tmp_path / "train.parquet"
    pl.read_parquet(ROOT / "credit.parquet").head(8000).write_parquet(data)
    engine.create_model(MODEL, "classification", target="default")
    for name, weak in (("weak", True), ("strong", False)):
        job = wait_for(
            engine,
            engine.trigger_training(_config(tmp_path, name, data, weak=weak), model=MODEL).id,
        )
        assert job.outcome == "validated", (
            name,
            job.error,
            engine.get_version(MODEL, "v1").status_reason,
        )
    engine.deploy(MODEL, "v1", reason="the weak one first")
    test = engine.create_ab_test(ABTestConfig(
        model=MODEL, name="strong-vs-weak", versions=["v1", "v2"], split={"v1": 50, "v2": 50},
        unit="unit_id", primary_metric="accuracy", guardrail_metrics=["error_rate"], mde=0.05,
        min_sample_per_arm=500,
    ))  # fmt: skip
    engine.start_ab_test(test.id)

    rows = pl.concat([
        pl.read_parquet(ROOT / "credit_current.parquet"),
        pl.read_parquet(ROOT / "credit.parquet").tail(6000),
    ])  # fmt: skip
    features = rows.drop(["application_id", "applied_at", "default"]).to_dicts()
    labels = rows["default"].to_list()
    for start in range(0, len(features), 1000):
        batch = [
            {"request_id": f"r{i}", "unit_id": f"applicant-{i}", "features": features[i]}
            for i in range(start, min(start + 1000, len(features)))
        ]
        answers = engine.predict(MODEL, batch)
        assert {a.version for a in answers} == {"v1", "v2"}
    actuals = [{"request_id": f"r{i}", "actual": y} for i, y in enumerate(labels)]
    for start in range(0, len(actuals), 5000):  # labels arrive late, in batches
        engine.record_actuals(MODEL, actuals[start : start + 5000])

    results = engine.analyze_test_results(test.id)
    assert not results.srm["mismatch"]
    assert results.winner == "v2" and results.promotable, results.recommendation
    assert results.recommendation.startswith("promote v2")
    primary = next(c for c in results.comparisons if c.metric == "accuracy")
    assert primary.treatment_mean > primary.control_mean and primary.significant
    rev = engine.promote_winner(test.id)
    assert rev.traffic == {"v2": 1.0}
    assert engine.get_deployment(MODEL).traffic == {"v2": 1.0}
    assert engine.get_ab_test(test.id).status.value == "completed"
    assert [r.action for r in engine.list_audit(action="abtest")][-1] == "abtest.promote"
    with pytest.raises(Exception, match=r"completed|not running|cannot"):
        engine.update_traffic_split(test.id, {"v1": 50, "v2": 50})
