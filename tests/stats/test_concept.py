from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from core.errors import InvalidInput
from core.stats.concept import ADWIN, PageHinkley, change_points
from core.training.catalogue import build_pipeline
from core.training.data import infer_feature_type, model_columns, to_model_frame

CREDIT = Path(__file__).resolve().parents[2] / "sample_data" / "credit"


@pytest.fixture(scope="module")
def error_streams() -> tuple[np.ndarray, np.ndarray]:
    train = pl.read_parquet(CREDIT / "credit.parquet")
    skip = {"application_id", "applied_at", "default"}
    types = {c: infer_feature_type(c, train.schema[c]) for c in train.columns if c not in skip}
    numeric, categorical = model_columns(types)
    model = build_pipeline(
        "classification", "hist_gradient_boosting", numeric, categorical, {"max_iter": 50}
    )
    model.fit(to_model_frame(train, types), train["default"].to_numpy())

    def errors(name: str) -> np.ndarray:
        frame = pl.read_parquet(CREDIT / f"{name}.parquet").head(3000)
        pred = model.predict(to_model_frame(frame, types))
        return (pred != frame["default"].to_numpy()).astype(float)

    current = errors("credit_current")
    return current, np.concatenate([current, errors("credit_concept_drift")])


def test_adwin_finds_the_concept_change(error_streams):
    _, stream = error_streams
    points = change_points(stream, "adwin")
    assert any(p >= 3000 for p in points), points
    assert not [p for p in points if p < 2900], points


def test_page_hinkley_finds_the_concept_change(error_streams):
    _, stream = error_streams
    points = change_points(stream, "page_hinkley")
    assert any(p >= 3000 for p in points), points


def test_adwin_is_quiet_on_a_stationary_stream(error_streams):
    current, _ = error_streams
    assert change_points(current, "adwin") == []


def test_adwin_window_and_estimation():
    rng = np.random.default_rng(0)
    det = ADWIN()
    data = np.r_[rng.normal(0, 0.1, 2000), rng.normal(1, 0.1, 2000)]
    hits = [i for i, x in enumerate(data) if det.update(x)]
    assert hits and 2000 <= hits[0] < 2100
    assert det.n_detections == len(hits)
    # after the change the window holds (mostly) the new regime
    assert det.width < 2100 and det.estimation == pytest.approx(1.0, abs=0.05)


def test_page_hinkley_both_directions_and_reset():
    up = PageHinkley()
    data = np.r_[np.zeros(500), np.ones(500)]
    hits = [i for i, x in enumerate(data) if up.update(x)]
    assert hits and 500 <= hits[0] < 600
    down = PageHinkley(mode="down")
    hits = [i for i, x in enumerate(data[::-1]) if down.update(x)]
    assert hits and 500 <= hits[0] < 600
    only_up = PageHinkley(mode="up")
    assert not any(only_up.update(x) for x in data[::-1])


def test_bad_input():
    with pytest.raises(InvalidInput):
        change_points([0.0, 1.0], "cusum")
    with pytest.raises(InvalidInput):
        ADWIN(delta=2.0)
    with pytest.raises(InvalidInput):
        PageHinkley(mode="sideways")
    with pytest.raises(InvalidInput):
        ADWIN().update(float("nan"))
