from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from core.errors import InvalidInput
from core.training.profile import QUANTILES, build_profile, reference_sample


def _frame(n: int = 2000, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 1, n)
    income[rng.random(n) < 0.1] = np.nan  # NaN counts as missing, like a null
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    return pl.DataFrame(
        {
            "age": pl.Series(rng.integers(18, 90, n)).set(pl.Series(rng.random(n) < 0.05), None),
            "income": income,
            "region": pl.Series(region).set(pl.Series(rng.random(n) < 0.02), None),
            "member": rng.random(n) < 0.3,
            "zeros": np.where(rng.random(n) < 0.7, 0.0, rng.exponential(1, n)),
            "target": rng.integers(0, 2, n),
        }
    )


TYPES = {
    "age": "numeric",
    "income": "numeric",
    "region": "categorical",
    "member": "binary",
    "zeros": "numeric",
}


def _finite(frame: pl.DataFrame, name: str) -> np.ndarray:
    values = frame[name].cast(pl.Float64).to_numpy()  # nulls become NaN
    return values[np.isfinite(values)]


@pytest.mark.parametrize("name", ["age", "income", "zeros"])
def test_numeric_profile_equals_numpy(name: str) -> None:
    frame = _frame()
    prof = build_profile(frame, TYPES)
    assert prof["rows"] == frame.height
    assert "target" not in prof["features"]
    feat = prof["features"][name]
    v = _finite(frame, name)
    assert feat["type"] == "numeric"
    assert feat["count"] == len(v)
    assert feat["missing"] == frame.height - len(v)
    assert feat["missing"] > 0 or name == "zeros"
    assert feat["distinct"] == len(np.unique(v))
    assert feat["mean"] == pytest.approx(np.mean(v), rel=1e-12)
    assert feat["std"] == pytest.approx(np.std(v, ddof=1), rel=1e-12)
    assert (feat["min"], feat["max"]) == (v.min(), v.max())
    assert list(feat["quantiles"]) == [str(q) for q in QUANTILES]
    assert list(feat["quantiles"].values()) == pytest.approx(np.quantile(v, QUANTILES), rel=1e-12)


@pytest.mark.parametrize("name", ["age", "income", "zeros"])
def test_histogram_is_equal_frequency_and_matches_numpy(name: str) -> None:
    frame = _frame()
    hist = build_profile(frame, TYPES, bins=10)["features"][name]["histogram"]
    v = _finite(frame, name)
    edges = np.unique(np.quantile(v, np.linspace(0, 1, 11)))
    assert hist["edges"] == pytest.approx(edges, rel=1e-12)
    assert np.all(np.diff(hist["edges"]) > 0)  # deduplicated: usable as bins for PSI
    assert len(hist["counts"]) == len(hist["edges"]) - 1 <= 10
    assert hist["counts"] == np.histogram(v, bins=np.asarray(hist["edges"]))[0].tolist()
    assert sum(hist["counts"]) == len(v)


def test_zero_inflated_feature_has_fewer_bins() -> None:
    hist = build_profile(_frame(), TYPES, bins=20)["features"]["zeros"]["histogram"]
    assert len(hist["edges"]) < 21
    assert hist["edges"][0] == 0.0
    assert hist["counts"][0] > 0.6 * sum(hist["counts"])


def test_categorical_and_binary_frequencies() -> None:
    frame = _frame()
    prof = build_profile(frame, TYPES)["features"]
    region = prof["region"]
    present = frame["region"].drop_nulls()
    assert region["missing"] == frame["region"].null_count() > 0
    assert region["count"] == len(present)
    assert region["distinct"] == 4
    assert sum(region["frequencies"].values()) == pytest.approx(1.0)
    for category, share in region["frequencies"].items():
        assert share == pytest.approx((present == category).sum() / len(present))
    assert list(region["frequencies"]) == ["north", "south", "east", "west"]  # most common first
    member = prof["member"]
    assert member["type"] == "binary"
    assert set(member["frequencies"]) == {"true", "false"}
    assert member["frequencies"]["true"] == pytest.approx(frame["member"].mean())


def test_categories_beyond_the_cap_are_pooled() -> None:
    frame = pl.DataFrame({"c": ["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"] * 2 + ["e", "f"]})
    freqs = build_profile(frame, {"c": "categorical"}, max_categories=3)["features"]["c"]
    assert freqs["distinct"] == 6
    assert freqs["frequencies"] == pytest.approx(
        {"a": 5 / 16, "b": 4 / 16, "c": 3 / 16, "__other__": 4 / 16}
    )
    assert sum(freqs["frequencies"].values()) == pytest.approx(1.0)


def test_edge_cases_stay_json_safe() -> None:
    frame = pl.DataFrame(
        {
            "const": [3.0] * 5,
            "empty": pl.Series([None] * 5, dtype=pl.Float64),
            "wild": [1.0, float("inf"), float("-inf"), float("nan"), 2.0],
            "one": [7.0, None, None, None, None],
            "nocat": pl.Series([None] * 5, dtype=pl.String),
            "seen": [datetime(2024, 1, 1) + timedelta(days=i) for i in range(5)],
        }
    )
    types = {
        "const": "numeric",
        "empty": "numeric",
        "wild": "numeric",
        "one": "numeric",
        "nocat": "categorical",
        "seen": "datetime",
    }
    prof = build_profile(frame, types)
    json.dumps(prof, allow_nan=False)
    f = prof["features"]
    assert f["const"]["histogram"] == {"edges": [3.0, 3.0], "counts": [5]}
    assert f["const"]["std"] == 0.0
    assert f["empty"]["count"] == 0 and f["empty"]["mean"] is None
    assert f["empty"]["histogram"] == {"edges": [], "counts": []}
    assert (f["wild"]["count"], f["wild"]["missing"], f["wild"]["max"]) == (2, 3, 2.0)
    assert f["one"]["std"] is None and f["one"]["quantiles"]["0.5"] == 7.0
    assert f["nocat"]["frequencies"] == {} and f["nocat"]["missing"] == 5
    assert f["seen"]["distinct"] == 5 and f["seen"]["min"].startswith("2024-01-01")


def test_classification_predictions_profile() -> None:
    frame = _frame(500)
    labels = np.array(["no", "yes", "yes", "no", "no"] * 40)
    proba = np.linspace(0.01, 0.99, 200)
    prof = build_profile(frame, TYPES, predictions=labels, task="classification", scores=proba)
    preds = prof["predictions"]
    assert preds["type"] == "classification"
    assert preds["classes"]["frequencies"] == pytest.approx({"no": 0.6, "yes": 0.4})
    assert preds["score"]["quantiles"]["0.5"] == pytest.approx(np.median(proba))
    assert sum(preds["score"]["histogram"]["counts"]) == 200
    # a binary predict_proba matrix, or a fractional 1-D array alone, is taken as the score
    matrix = np.column_stack([1 - proba, proba])
    for given in (matrix, proba):
        alone = build_profile(frame, TYPES, predictions=given, task="classification")
        assert alone["predictions"]["classes"] is None
        score = alone["predictions"]["score"]
        assert score["quantiles"] == pytest.approx(preds["score"]["quantiles"])
        assert score["histogram"]["counts"] == preds["score"]["histogram"]["counts"]
    ints = build_profile(frame, TYPES, predictions=np.array([0, 1, 1, 1]), task="classification")
    assert ints["predictions"]["classes"]["frequencies"] == {"1": 0.75, "0": 0.25}
    json.dumps(prof, allow_nan=False)


def test_regression_predictions_profile() -> None:
    pred = np.random.default_rng(3).normal(5, 2, 1000)
    prof = build_profile(_frame(100), TYPES, predictions=pred, task="regression")["predictions"]
    assert prof["type"] == "numeric"
    assert prof["count"] == 1000
    assert prof["mean"] == pytest.approx(pred.mean())
    assert list(prof["quantiles"].values()) == pytest.approx(np.quantile(pred, QUANTILES))


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"feature_types": {"nope": "numeric"}}, "no column for features: nope"),
        ({"feature_types": {"region": "numeric"}}, "'region' is declared numeric"),
        ({"feature_types": {"age": "text"}}, "unknown type 'text'"),
        ({"feature_types": TYPES, "predictions": np.ones(3)}, "needs the task"),
        ({"feature_types": TYPES, "bins": 0}, "bins"),
    ],
)
def test_bad_profile_input(kwargs: dict, needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle):
        build_profile(_frame(50), **kwargs)


def test_reference_sample() -> None:
    frame = _frame(20_000)
    sample = reference_sample(frame, ["age", "income"], max_values=500, seed=7)
    assert sample == reference_sample(frame, ["age", "income"], max_values=500, seed=7)
    assert sample != reference_sample(frame, ["age", "income"], max_values=500, seed=8)
    for name, values in sample.items():
        assert len(values) == 500
        assert values == sorted(values)
        assert all(np.isfinite(values))
        assert np.isin(values, _finite(frame, name)).all()
    # the same whatever the row order, and whichever other features are asked for
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=1)
    assert reference_sample(shuffled, ["income"], max_values=500, seed=7) == {
        "income": sample["income"]
    }


def test_reference_sample_keeps_everything_when_small() -> None:
    frame = _frame(300)
    sample = reference_sample(frame, ["income"], max_values=5000)
    assert sample["income"] == sorted(_finite(frame, "income").tolist())
    json.dumps(sample, allow_nan=False)
    with pytest.raises(InvalidInput, match="no column"):
        reference_sample(frame, ["salary"])
    with pytest.raises(InvalidInput, match="declared numeric"):
        reference_sample(frame, ["region"])
