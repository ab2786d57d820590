from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.spatial import distance

from core.errors import InvalidInput
from core.stats import drift
from core.stats.drift import detect_drift
from core.training.data import infer_feature_type, to_model_frame
from core.training.profile import build_profile, reference_sample

CREDIT = Path(__file__).resolve().parents[2] / "sample_data" / "credit"
SHIFTED = {"credit_utilization", "annual_income", "loan_purpose", "loan_amount"}
STABLE = {"age", "region", "home_ownership", "has_cosigner", "months_employed"}


# ------------------------------------------------------------------ kernels against scipy


@pytest.mark.parametrize(
    ("n1", "n2", "decimals", "shift"),
    [
        (40, 90, None, 0.0),
        (300, 300, 1, 0.1),
        (1000, 2500, 1, 0.05),
        (5000, 20_000, None, 0.02),
        (5000, 60_000, 0, 0.0),
        (7, 5000, None, 1.0),
    ],
)
def test_ks_and_wasserstein_equal_scipy(n1, n2, decimals, shift):
    rng = np.random.default_rng(n1 * 7 + n2)
    a = rng.normal(size=n1)
    b = rng.normal(shift, 1.2, size=n2)
    if decimals is not None:  # ties within and across samples
        a, b = np.round(a, decimals), np.round(b, decimals)
    a.sort()
    b.sort()
    d, w = drift.merge_ks_wasserstein(a, b)
    stat, p = drift.ks_pvalue(d, n1, n2)
    ref = stats.ks_2samp(a, b)
    assert stat == pytest.approx(ref.statistic, abs=1e-15)
    assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12)


def test_jensen_shannon_chi_square_z_psi():
    p = np.array([0.5, 0.3, 0.2, 0.0])
    q = np.array([0.4, 0.3, 0.2, 0.1])
    assert drift.jensen_shannon(p, q) == pytest.approx(distance.jensenshannon(p, q), rel=1e-12)
    observed = np.array([120.0, 260.0, 620.0])
    shares = np.array([0.15, 0.25, 0.6])
    stat, pv = drift.chi_square(observed, shares)
    ref = stats.chisquare(observed, shares * observed.sum())
    assert stat == pytest.approx(ref.statistic, rel=1e-12)
    assert pv == pytest.approx(ref.pvalue, rel=1e-9)
    # a category the reference never saw
    assert drift.chi_square(np.array([5.0, 5.0]), np.array([1.0, 0.0])) == (np.inf, 0.0)
    # two-proportion z by hand: pooled p = 0.35
    z, pz = drift.two_proportion_z(0.3, 100, 0.4, 100)
    se = np.sqrt(0.35 * 0.65 * (1 / 100 + 1 / 100))
    assert z == pytest.approx(-0.1 / se)
    assert pz == pytest.approx(2 * stats.norm.sf(0.1 / se))
    # PSI by hand, with the epsilon for an empty bin
    by_hand = (0.4 - 0.5) * np.log(0.4 / 0.5) + 0 + 0 + (0.1 - 1e-4) * np.log(0.1 / 1e-4)
    assert drift.psi(p, q) == pytest.approx(by_hand)


def _toy(rows: int, shift: float = 0.0, n_cur: int = 2000, seed: int = 0):
    rng = np.random.default_rng(seed)
    ref = pl.DataFrame(
        {
            "x": rng.normal(size=rows),
            "c": rng.choice(["a", "b", "c"], size=rows, p=[0.5, 0.3, 0.2]),
            "flag": rng.random(rows) < 0.3,
        }
    )
    cur = pl.DataFrame(
        {
            "x": np.r_[rng.normal(shift, size=n_cur - 2), [np.nan, np.inf]],
            "c": rng.choice(["a", "b", "c", "z"], size=n_cur, p=[0.5, 0.3, 0.19, 0.01]),
            "flag": (rng.random(n_cur) < 0.3).astype(float),
        }
    ).with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col("c")).alias("c")
    )
    types = {"x": "numeric", "c": "categorical", "flag": "binary"}
    return build_profile(ref, types), reference_sample(ref, ["x"]), ref, cur


def test_methods_follow_reference_size_and_match_scipy():
    prof, samp, ref, cur = _toy(800, shift=0.3)
    out = detect_drift(prof, samp, cur)
    by = {f.feature: f for f in out.features}
    assert (by["x"].method, by["c"].method, by["flag"].method) == ("ks", "chi2", "z")
    x = ref["x"].to_numpy()
    cx = cur["x"].to_numpy()
    cx = cx[np.isfinite(cx)]
    ks = stats.ks_2samp(x, cx)
    assert by["x"].statistic == pytest.approx(ks.statistic)
    assert by["x"].p_value == pytest.approx(ks.pvalue, rel=1e-9)
    assert by["x"].drifted and by["x"].current_missing == 2 and by["x"].current_size == 1998
    assert by["c"].current_missing == 1
    # each feature's missing share of the window, and categories the reference never had
    assert (by["x"].missing_share, by["c"].missing_share, by["flag"].missing_share) == (
        2 / 2000,
        1 / 2000,
        0.0,
    )
    assert (by["x"].unseen_categories, by["c"].unseen_categories) == (None, 1)
    assert by["flag"].unseen_categories == 0
    # "z" is new: reference share 0 -> chi-square infinite (Evidently's behaviour)
    assert by["c"].p_value == 0.0 and by["c"].drifted
    # PSI on the profile's edges, end bins open
    edges = np.asarray(prof["features"]["x"]["histogram"]["edges"])
    rc = np.asarray(prof["features"]["x"]["histogram"]["counts"]) / len(x)
    inner = np.searchsorted(np.sort(cx), edges[1:-1], side="left")
    cc = np.diff(np.r_[0, inner, len(cx)]) / len(cx)
    assert by["x"].psi == pytest.approx(drift.psi(rc, cc))

    prof, samp, ref, cur = _toy(3000, shift=0.3)
    by = {f.feature: f for f in detect_drift(prof, samp, cur).features}
    assert (by["x"].method, by["c"].method, by["flag"].method) == (
        "wasserstein",
        "jensen_shannon",
        "jensen_shannon",
    )
    x = ref["x"].to_numpy()
    cx = cur["x"].to_numpy()
    cx = cx[np.isfinite(cx)]
    norm = np.std(samp["x"])  # the std (ddof 0) of the sample it is measured against
    expected = stats.wasserstein_distance(np.asarray(samp["x"]), cx) / norm
    assert by["x"].statistic == pytest.approx(expected, rel=1e-9)
    assert by["x"].p_value is None and by["x"].threshold == 0.1
    cur_flag = cur["flag"].to_numpy()
    p = np.array([1 - ref["flag"].mean(), ref["flag"].mean()])
    q = np.array([1 - cur_flag.mean(), cur_flag.mean()])
    assert by["flag"].statistic == pytest.approx(distance.jensenshannon(p, q), rel=1e-9)
    assert not by["flag"].drifted


def test_test_choice_counts_non_missing_reference_values():
    """#18: 990 values and 30 missing is a reference of 990 for Evidently (it drops NaN before
    `_get_default_stattest`), so KS / chi-square / z-test, where counting rows (1,020 > 1,000)
    gave Wasserstein and Jensen–Shannon."""
    rng = np.random.default_rng(7)
    x = np.r_[rng.normal(size=990), np.full(30, np.nan)]
    c = [*rng.choice(["a", "b", "c"], size=990).tolist(), *[None] * 30]
    flag = [*(rng.random(990) < 0.3).tolist(), *[None] * 30]
    ref = pl.DataFrame({"x": x, "c": c, "flag": flag})
    types = {"x": "numeric", "c": "categorical", "flag": "binary"}
    prof, samp = build_profile(ref, types), reference_sample(ref, ["x"])
    assert prof["rows"] == 1020 and prof["features"]["x"]["count"] == 990
    cur = pl.DataFrame(
        {
            "x": rng.normal(0.1, size=600),
            "c": rng.choice(["a", "b", "c"], size=600),
            "flag": rng.random(600) < 0.3,
        }
    )
    by = {f.feature: f for f in detect_drift(prof, samp, cur).features}
    assert (by["x"].method, by["c"].method, by["flag"].method) == ("ks", "chi2", "z")
    ks = stats.ks_2samp(x[np.isfinite(x)], cur["x"].to_numpy())
    assert by["x"].statistic == pytest.approx(ks.statistic)
    assert by["x"].p_value == pytest.approx(ks.pvalue, rel=1e-9)
    assert by["x"].reference_size == 990

    # One more non-missing value: Wasserstein and Jensen–Shannon.
    ref2 = pl.concat([ref.head(990), ref.head(11)])
    prof2, samp2 = build_profile(ref2, types), reference_sample(ref2, ["x"])
    by = {f.feature: f for f in detect_drift(prof2, samp2, cur).features}
    assert (by["x"].method, by["c"].method, by["flag"].method) == (
        "wasserstein",
        "jensen_shannon",
        "jensen_shannon",
    )


def test_wasserstein_is_normed_by_the_sample_it_is_measured_against():
    """Evidently's `_wasserstein_distance_norm` divides by np.std of the reference it compares
    with; mlc compares with the stored sample (5,000 of these 20,000 values), so its std."""
    rng = np.random.default_rng(11)
    ref = pl.DataFrame({"x": rng.standard_t(3, size=20_000)})
    prof, samp = build_profile(ref, {"x": "numeric"}), reference_sample(ref, ["x"])
    sample = np.asarray(samp["x"])
    assert len(sample) == 5000 and abs(np.std(sample) / np.std(ref["x"].to_numpy()) - 1) > 0.01
    cur = pl.DataFrame({"x": rng.standard_t(3, size=3000) + 0.2})
    (found,) = detect_drift(prof, samp, cur).features
    expected = stats.wasserstein_distance(sample, cur["x"].to_numpy()) / np.std(sample)
    assert found.method == "wasserstein"
    assert found.statistic == pytest.approx(expected, rel=1e-12)
    # the floor: a constant reference sample
    const = pl.DataFrame({"x": np.r_[np.full(2000, 3.0), np.arange(6.0)]})
    prof = build_profile(const, {"x": "numeric"})
    samp = {"x": [3.0] * 2000}  # every value the same: std 0
    (found,) = detect_drift(prof, samp, pl.DataFrame({"x": np.full(200, 3.5)})).features
    assert found.method == "wasserstein" and found.statistic == pytest.approx(0.5 / 0.001)


@pytest.mark.parametrize(
    ("ref_values", "cur_values", "rows", "method"),
    [
        ([0, 1, 2], [0, 1, 2], 500, "chi2"),
        ([0, 1, 2], [0, 1, 2, 3, 4, 5], 500, "ks"),  # 6 values together: numeric
        ([0, 1], [0, 1], 500, "z"),
        ([0, 1], [0, 1, 2], 500, "chi2"),
        ([0, 1, 2], [0, 1, 2], 2000, "jensen_shannon"),
        ([0, 1, 2], [0, 1, 2, 3, 4, 5], 2000, "wasserstein"),
    ],
)
def test_few_values_count_reference_and_current_together(ref_values, cur_values, rows, method):
    """Evidently's `n_values` is `pd.concat([reference, current]).nunique()`."""
    rng = np.random.default_rng(rows + len(cur_values))
    ref = pl.DataFrame({"x": rng.choice(np.asarray(ref_values, dtype=float), size=rows)})
    cur = pl.DataFrame({"x": rng.choice(np.asarray(cur_values, dtype=float), size=400)})
    prof, samp = build_profile(ref, {"x": "numeric"}), reference_sample(ref, ["x"])
    (found,) = detect_drift(prof, samp, cur).features
    assert found.method == method
    assert found.unseen_categories is None  # a numeric feature has no categories
    if method == "chi2":
        keys = sorted(set(ref_values) | set(cur_values))
        r = ref["x"].value_counts().to_dict(as_series=False)
        rc = dict(zip(r["x"], r["count"], strict=True))
        c = cur["x"].value_counts().to_dict(as_series=False)
        cc = dict(zip(c["x"], c["count"], strict=True))
        exp = np.array([rc.get(k, 0) * 400 / rows for k in keys])
        obs = np.array([cc.get(k, 0) for k in keys])
        expected = 0.0 if np.any((exp == 0) & (obs > 0)) else stats.chisquare(obs, exp).pvalue
        assert found.p_value == pytest.approx(expected, rel=1e-9)


def test_unseen_categories_when_the_reference_kept_only_its_top_50():
    rng = np.random.default_rng(5)
    names = [f"k{i:02d}" for i in range(60)]
    ref = pl.DataFrame({"c": rng.choice(names, size=6000)})
    prof = build_profile(ref, {"c": "categorical"})
    assert "__other__" in prof["features"]["c"]["frequencies"]
    kept = [k for k in prof["features"]["c"]["frequencies"] if k != "__other__"]
    folded = sorted(set(names) - set(kept))
    only_kept = pl.DataFrame({"c": rng.choice(kept, size=500)})
    (found,) = detect_drift(prof, {}, only_kept).features
    assert found.unseen_categories == 0
    # A category outside the kept 50 may be one of the folded ten or new: the profile cannot
    # tell, so the count is unknown rather than wrong.
    for extra in (folded[0], "brand-new"):
        cur = pl.DataFrame({"c": [*only_kept["c"].to_list(), extra]})
        (found,) = detect_drift(prof, {}, cur).features
        assert found.unseen_categories is None
    small = build_profile(pl.DataFrame({"c": ["a", "b"] * 300}), {"c": "categorical"})
    cur = pl.DataFrame({"c": ["a", "b", "x", "y", "y", None] * 50})
    (found,) = detect_drift(small, {}, cur).features
    assert found.unseen_categories == 2 and found.missing_share == pytest.approx(1 / 6)


def test_insufficient_data_never_drifts():
    prof, samp, _, cur = _toy(3000, shift=3.0)
    out = detect_drift(prof, samp, cur.head(99))
    assert out.status == "insufficient_data"
    assert out.features == [] and not out.dataset_drift and out.drift_share == 0.0
    assert out.current_size == 99 and "99" in out.reason


def test_bad_input():
    prof, samp, _, cur = _toy(500)
    with pytest.raises(InvalidInput):
        detect_drift(prof, samp, cur.drop("x"))
    with pytest.raises(InvalidInput):
        detect_drift(prof, samp, cur.with_columns(pl.col("x").cast(pl.String)))
    with pytest.raises(InvalidInput):
        detect_drift({"rows": 3}, samp, cur)
    with pytest.raises(InvalidInput):
        detect_drift(prof, samp, cur.to_pandas() if False else {"x": [1.0]})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        detect_drift(prof, samp, cur, current_predictions={"proba": np.zeros(3)})


def test_a_numeric_feature_accepts_boolean_and_all_null_columns():
    prof, samp, _, cur = _toy(500)
    as_bool = detect_drift(prof, samp, cur.with_columns(pl.col("x") > 0))
    x = as_bool.features[0]
    assert (x.feature, x.current_size, x.current_missing) == ("x", 2000, 0)
    all_null = detect_drift(prof, samp, cur.with_columns(pl.lit(None).alias("x")))
    assert all_null.status == "ok" and "x" not in {f.feature for f in all_null.features}


# ------------------------------------------------------------------------- sample data


def _credit(rows: int | None):
    raw = pl.read_parquet(CREDIT / "credit.parquet")
    skip = {"application_id", "applied_at", "default"}
    types = {c: infer_feature_type(c, raw.schema[c]).value for c in raw.columns if c not in skip}
    assert types["has_cosigner"] == "binary"
    if rows is not None:
        raw = raw.sample(rows, seed=3)
    X = to_model_frame(raw, types)
    numeric = [c for c, t in types.items() if t in ("numeric", "binary")]
    return types, build_profile(X, types), reference_sample(X, numeric)


def _current(name: str, types, rows: int | None = None) -> pl.DataFrame:
    frame = pl.read_parquet(CREDIT / f"{name}.parquet")
    if rows is not None:
        frame = frame.sample(rows, seed=5)
    return to_model_frame(frame, types)


@pytest.mark.parametrize(("ref_rows", "cur_rows"), [(None, None), (1000, 500)])
def test_credit_covariate_drift_flags_shifted_features(ref_rows, cur_rows):
    types, prof, samp = _credit(ref_rows)
    out = detect_drift(prof, samp, _current("credit_covariate_drift", types, cur_rows))
    by = {f.feature: f for f in out.features}
    assert set(by) == set(types)
    small = ref_rows is not None
    assert by["age"].method == ("ks" if small else "wasserstein")
    assert by["loan_purpose"].method == ("chi2" if small else "jensen_shannon")
    assert by["has_cosigner"].method == ("z" if small else "jensen_shannon")
    assert {f for f in SHIFTED if by[f].drifted} == SHIFTED, out.reason
    assert not {f for f in STABLE if by[f].drifted}, out.reason
    assert by["credit_utilization"].psi > 0.3  # README: 0.45 with 10 quantile bins


@pytest.mark.parametrize(("ref_rows", "cur_rows"), [(None, None), (1000, 500)])
def test_credit_current_has_no_dataset_drift(ref_rows, cur_rows):
    types, prof, samp = _credit(ref_rows)
    out = detect_drift(prof, samp, _current("credit_current", types, cur_rows))
    assert out.status == "ok"
    assert not out.dataset_drift, out.reason
    if ref_rows is None:
        assert out.drift_share == 0.0, out.reason
        assert all(f.psi is not None and f.psi < 0.05 for f in out.features)


def test_prediction_drift_from_the_profile():
    rng = np.random.default_rng(1)
    frame = pl.DataFrame({"x": rng.normal(size=5000)})
    scores = rng.beta(2, 5, size=5000)
    prof = build_profile(
        frame,
        {"x": "numeric"},
        predictions=(scores > 0.5).astype(int),
        task="classification",
        scores=scores,
    )
    samp = reference_sample(frame, ["x"])
    cur = pl.DataFrame({"x": rng.normal(size=3000)})
    same = detect_drift(prof, samp, cur, current_predictions={"score": rng.beta(2, 5, size=3000)})
    assert same.prediction is not None and same.prediction.method == "wasserstein"
    assert not same.prediction.drifted
    moved = detect_drift(prof, samp, cur, current_predictions={"score": rng.beta(5, 2, size=3000)})
    assert moved.prediction is not None and moved.prediction.drifted
    labels = detect_drift(
        prof, samp, cur, current_predictions={"prediction": (rng.random(3000) < 0.6).astype(int)}
    )
    assert labels.prediction is not None and labels.prediction.method == "jensen_shannon"
    assert labels.prediction.drifted
    reg = build_profile(
        frame, {"x": "numeric"}, predictions=frame["x"].to_numpy() * 3, task="regression"
    )
    out = detect_drift(reg, samp, cur, current_predictions={"prediction": cur["x"].to_numpy() * 3})
    assert out.prediction is not None and not out.prediction.drifted
