from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from core.errors import InvalidInput
from core.stats.metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS, compute_metrics
from core.training.catalogue import build_pipeline
from core.training.validator import (
    LOWER_IS_BETTER,
    GateResult,
    ValidationResults,
    absolute_gates,
    champion_gate,
    check_gate_metrics,
    evaluate,
    schema_gate,
)


def _fitted(labels: np.ndarray, n: int = 400, seed: int = 0):
    """A real classifier's predictions and probabilities on held-out rows."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    idx = np.clip(((X[:, 0] + rng.normal(0, 1, n)) * len(labels) / 4 + len(labels) / 2), 0, None)
    y = labels[np.minimum(idx.astype(int), len(labels) - 1)]
    clf = LogisticRegression(max_iter=1000).fit(X[: n // 2], y[: n // 2])
    Xh, yh = X[n // 2 :], y[n // 2 :]
    return yh, clf.predict(Xh), clf.predict_proba(Xh), clf.classes_


@pytest.mark.parametrize("labels", [np.array([0, 1]), np.array(["no", "yes"])])
def test_binary_metrics_equal_sklearn(labels: np.ndarray) -> None:
    y, pred, proba, classes = _fitted(labels)
    pos = classes[-1]
    got = compute_metrics("classification", y, pred, proba, classes)
    want = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, pos_label=pos),
        "recall": skm.recall_score(y, pred, pos_label=pos),
        "f1": skm.f1_score(y, pred, pos_label=pos),
        "roc_auc": skm.roc_auc_score(y, proba[:, 1]),
        "log_loss": skm.log_loss(y, proba),
        "brier": skm.brier_score_loss(y, proba[:, 1], pos_label=pos),
    }
    assert set(got) == set(CLASSIFICATION_METRICS)
    assert got == pytest.approx(want, rel=1e-12)
    assert all(type(v) is float for v in got.values())
    # a 1-D positive-class score is the same as the full matrix
    assert compute_metrics("classification", y, pred, proba[:, 1], classes) == pytest.approx(got)


def test_positive_class_is_the_last_of_classes() -> None:
    y = np.array(["yes", "yes", "no", "no"])
    pred = np.array(["yes", "no", "no", "no"])
    got = compute_metrics("classification", y, pred, classes=np.array(["no", "yes"]))
    assert got["precision"] == 1.0
    assert got["recall"] == 0.5


def test_multiclass_metrics_equal_sklearn() -> None:
    y, pred, proba, classes = _fitted(np.array(["a", "b", "c"]))
    assert len(np.unique(y)) == 3
    got = compute_metrics("classification", y, pred, proba, classes)
    onehot = (y[:, None] == classes[None, :]).astype(float)
    want = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, average="macro"),
        "recall": skm.recall_score(y, pred, average="macro"),
        "f1": skm.f1_score(y, pred, average="macro"),
        "roc_auc": skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"),
        "log_loss": skm.log_loss(y, proba),
        "brier": skm.brier_score_loss(y, proba, labels=classes),
    }
    assert got == pytest.approx(want, rel=1e-12)
    assert got["brier"] == pytest.approx(np.mean(((proba - onehot) ** 2).sum(axis=1)))


def test_without_scores_only_label_metrics() -> None:
    y, pred, _, classes = _fitted(np.array([0, 1]))
    got = compute_metrics("classification", y, pred, None, classes)
    assert set(got) == {"accuracy", "precision", "recall", "f1"}


def test_zero_division_and_single_class_holdout() -> None:
    y = np.array([0, 0, 0, 0])
    pred = np.array([0, 0, 0, 0])
    proba = np.array([[0.9, 0.1]] * 4)
    with warnings.catch_warnings(action="error"):
        got = compute_metrics("classification", y, pred, proba, np.array([0, 1]))
    assert got["precision"] == 0.0 and got["recall"] == 0.0 and got["f1"] == 0.0
    assert "roc_auc" not in got  # undefined with one class: omitted, never NaN
    assert got["brier"] == pytest.approx(0.01)


def test_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(10, 3, 200)
    pred = y + rng.normal(0, 1, 200)
    got = compute_metrics("regression", y, pred)
    assert got == pytest.approx(
        {
            "mae": skm.mean_absolute_error(y, pred),
            "rmse": skm.root_mean_squared_error(y, pred),
            "r2": skm.r2_score(y, pred),
        },
        rel=1e-12,
    )
    assert set(got) == set(REGRESSION_METRICS)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("ranking", [1], [1]), "unknown task"),
        (("regression", [1.0, 2.0], [1.0]), "y_pred has 1"),
        (("classification", [], []), "empty"),
        (("classification", ["no", None], ["no", "no"]), "y_true has missing values"),
        (("regression", [1.0, 2.0], [1.0, np.nan]), "y_pred has missing values"),
        (("classification", [0, 2], [0, 1], None, [0, 1]), "never saw: 2"),
        (("classification", [0, 1], [0, 1], np.ones((2, 3)), [0, 1]), "y_score has shape"),
    ],
)
def test_bad_metric_inputs(args: tuple, needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle):
        compute_metrics(*args)


def _holdout(n: int, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, n)
    region = rng.choice(["north", "south", "east"], n)
    score = (age - 40) / 10 + (region == "south") + rng.normal(0, 1, n)
    return pl.DataFrame({"age": age, "region": region}), score


def test_evaluate_a_catalogue_classifier() -> None:
    X, s = _holdout(300, 0)
    y = np.where(s > 0.5, "yes", "no")
    pipe = build_pipeline("classification", "logistic_regression", ["age"], ["region"])
    pipe.fit(X[:200], y[:200])
    metrics, pred, scores = evaluate("classification", pipe, X[200:], y[200:])
    assert pred.shape == (100,) and set(pred) <= {"no", "yes"}
    assert scores is not None and scores.shape == (100, 2)
    assert metrics == compute_metrics("classification", y[200:], pred, scores, pipe.classes_)
    assert metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y[200:] == "yes", scores[:, 1]))
    assert metrics["accuracy"] > 0.6


def test_evaluate_a_catalogue_regressor_and_missing_columns() -> None:
    X, s = _holdout(300, 1)
    pipe = build_pipeline("regression", "ridge", ["age"], ["region"]).fit(X[:200], s[:200])
    metrics, pred, scores = evaluate("regression", pipe, X[200:], s[200:])
    assert scores is None
    assert metrics["rmse"] == pytest.approx(skm.root_mean_squared_error(s[200:], pred))
    with pytest.raises(InvalidInput, match="missing feature columns: region"):
        evaluate("regression", pipe, X[200:].drop("region"), s[200:])


def test_absolute_gates_pass_fail_and_reasons() -> None:
    metrics = {"roc_auc": 0.781, "log_loss": 0.612, "accuracy": 0.75}
    gates = absolute_gates(
        metrics, {"roc_auc": 0.75, "accuracy": 0.75}, {"log_loss": 0.5, "roc_auc": 0.9}
    )
    assert [(g.name, g.passed) for g in gates] == [
        ("min:roc_auc", True),
        ("min:accuracy", True),  # exactly on the minimum passes
        ("max:log_loss", False),
        ("max:roc_auc", True),
    ]
    assert gates[0].reason == "roc_auc 0.781 >= 0.75"
    assert gates[2].reason == "log_loss 0.612 is above the maximum 0.5"
    assert gates[3].reason == "roc_auc 0.781 <= 0.9"
    assert (gates[2].metric, gates[2].value, gates[2].threshold) == ("log_loss", 0.612, 0.5)
    failed = absolute_gates({"roc_auc": 0.701}, {"roc_auc": 0.75}, {})[0]
    assert not failed.passed and failed.reason == "roc_auc 0.701 is below the minimum 0.75"


def test_gate_reason_shows_enough_digits_to_tell_apart() -> None:
    gate = absolute_gates({"roc_auc": 0.7499}, {"roc_auc": 0.75}, {})[0]
    assert gate.reason == "roc_auc 0.7499 is below the minimum 0.75"


def test_gate_on_a_metric_not_computed_names_it() -> None:
    with pytest.raises(InvalidInput, match=r"'roc_auc'.*available: accuracy, f1"):
        absolute_gates({"accuracy": 0.9, "f1": 0.8}, {"roc_auc": 0.7}, {})
    with pytest.raises(InvalidInput, match="not a number"):
        absolute_gates({"accuracy": 0.9}, {"accuracy": "high"}, {})  # type: ignore[dict-item]


def test_check_gate_metrics() -> None:
    check_gate_metrics("classification", ["roc_auc", "log_loss"])
    check_gate_metrics("regression", ["rmse"])
    with pytest.raises(InvalidInput, match=r"unknown classification metric 'auc'.*roc_auc"):
        check_gate_metrics("classification", ["auc"])
    with pytest.raises(InvalidInput, match="'r2'"):
        check_gate_metrics("classification", ["r2"])
    with pytest.raises(InvalidInput, match="unknown task"):
        check_gate_metrics("clustering", [])


def test_champion_gate_higher_is_better() -> None:
    champ = {"roc_auc": 0.781}
    fail = champion_gate({"roc_auc": 0.701}, champ, "v3", "roc_auc", 0.01)
    assert not fail.passed
    assert fail.reason == "roc_auc 0.701 is 0.080 below champion v3 (0.781), tolerance 0.01"
    assert fail.threshold == pytest.approx(0.771)
    near = champion_gate({"roc_auc": 0.775}, champ, "v3", "roc_auc", 0.01)
    assert near.passed
    assert near.reason == "roc_auc 0.775 is 0.006 below champion v3 (0.781), within tolerance 0.01"
    better = champion_gate({"roc_auc": 0.79}, champ, "v3", "roc_auc", 0.0)
    assert better.passed and better.reason == "roc_auc 0.790 >= champion v3 (0.781)"


@pytest.mark.parametrize(
    ("metric", "champ", "challenger", "passed"),
    [
        ("roc_auc", 0.78, 0.77, True),  # exactly tolerance below: float rounding must not fail it
        ("roc_auc", 0.78, 0.7699, False),
        ("accuracy", 0.3, 0.2, True),
        ("log_loss", 0.40, 0.41, True),  # lower is better: exactly tolerance above
        ("log_loss", 0.40, 0.4101, False),
        ("rmse", 0.1, 0.2, True),
        ("mae", 1.0, 0.5, True),
    ],
)
def test_champion_gate_tolerance_boundaries(
    metric: str, champ: float, challenger: float, passed: bool
) -> None:
    tol = 0.1 if metric in {"accuracy", "rmse"} else 0.01
    gate = champion_gate({metric: challenger}, {metric: champ}, "v1", metric, tol)
    assert gate.passed is passed, gate.reason


def test_champion_gate_lower_is_better_reasons() -> None:
    assert "log_loss" in LOWER_IS_BETTER
    fail = champion_gate({"log_loss": 0.5}, {"log_loss": 0.4}, "v2", "log_loss", 0.05)
    assert not fail.passed
    assert fail.reason == "log_loss 0.500 is 0.100 above champion v2 (0.400), tolerance 0.05"
    assert fail.threshold == pytest.approx(0.45)
    ok = champion_gate({"log_loss": 0.3}, {"log_loss": 0.4}, "v2", "log_loss", 0.05)
    assert ok.passed and ok.reason == "log_loss 0.300 <= champion v2 (0.400)"


def test_champion_gate_without_champion_and_bad_input() -> None:
    gate = champion_gate({"r2": 0.5}, None, None, "r2", 0.01)
    assert gate.passed and gate.reason.startswith("no champion")
    assert (gate.name, gate.metric, gate.value) == ("champion", "r2", 0.5)
    with pytest.raises(InvalidInput, match=">= 0"):
        champion_gate({"r2": 0.5}, {"r2": 0.5}, "v1", "r2", -0.1)
    with pytest.raises(InvalidInput, match="champion v1"):
        champion_gate({"r2": 0.5}, {"mae": 0.5}, "v1", "r2", 0.0)
    with pytest.raises(InvalidInput, match="challenger"):
        champion_gate({"mae": 0.5}, {"r2": 0.5}, "v1", "r2", 0.0)


def test_schema_gate() -> None:
    declared = {"age": "numeric", "region": "categorical"}
    free = schema_gate({}, declared, None, "default")
    assert free.passed
    assert free.reason == "model declares no feature schema; training used 2 features"
    assert schema_gate(declared, dict(reversed(declared.items())), "default", "default").passed
    assert schema_gate(declared, declared, None, "anything").passed
    bad = schema_gate(
        declared | {"income": "numeric"},
        {"age": "categorical", "region": "categorical", "zip": "categorical"},
        "default",
        "target",
    )
    assert not bad.passed
    assert bad.reason == (
        "schema mismatch: missing features: income; unexpected features: zip; "
        "type mismatches: age declared numeric, got categorical; "
        "target declared 'default', got 'target'"
    )
    with pytest.raises(InvalidInput, match="unknown type 'text'"):
        schema_gate(declared, {"age": "text"}, None, "y")


def test_validation_results() -> None:
    ok = GateResult("schema", True, "fine")
    bad = GateResult("min:f1", False, "f1 0.100 is below the minimum 0.5", "f1", 0.1, 0.5)
    assert ValidationResults({}, []).passed
    res = ValidationResults({"f1": 0.1}, [ok, bad], "v1", {"f1": 0.2})
    assert not res.passed
    assert res.reasons == ["f1 0.100 is below the minimum 0.5"]
