"""Hyperparameter search over catalogue pipelines, on small synthetic Polars frames."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

from core.errors import InvalidInput, MlcError
from core.training.catalogue import build_pipeline
from core.training.search import (
    HyperparameterOptimizer,
    SearchResult,
    Trial,
    check_metric,
    parse_space,
)

LOGREG_SPACE = {"C": {"low": 0.001, "high": 10.0, "log": True}}
RIDGE_SPACE = {"alpha": {"low": 0.01, "high": 1000.0, "log": True}}


def classification_data(n: int = 400, seed: int = 0) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, n)
    income = rng.lognormal(10, 0.5, n)
    region = rng.choice(["north", "south", "east"], n)
    logit = (age - 40) / 10 - (np.log(income) - 10) + (region == "south") + rng.normal(0, 1, n)
    y = (logit > 0.3).astype(int)
    return pl.DataFrame({"age": age, "income": income, "region": region}), y


def regression_data(n: int = 300, seed: int = 1) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    distance = rng.uniform(0.5, 10, n)
    items = rng.integers(1, 8, n).astype(float)
    weather = rng.choice(["dry", "rain", "snow"], n)
    y = 10 + 3 * distance + 0.5 * items + 6 * (weather == "snow") + rng.normal(0, 2, n)
    return pl.DataFrame({"distance": distance, "items": items, "weather": weather}), y


def logreg() -> Any:
    return build_pipeline("classification", "logistic_regression", ["age", "income"], ["region"])


def ridge() -> Any:
    return build_pipeline("regression", "ridge", ["distance", "items"], ["weather"])


def assert_plain_json(params: dict[str, Any]) -> None:
    for value in params.values():
        assert value is None or type(value) in (bool, int, float, str), (value, type(value))
    json.dumps(params)


# -- parse_space -------------------------------------------------------------------------


def test_parse_space_builds_each_kind_of_distribution() -> None:
    space = parse_space(
        {
            "learning_rate": {"low": 0.02, "high": 0.2, "log": True},
            "subsample": {"low": 0.5, "high": 1.0},
            "max_leaf_nodes": {"low": 7, "high": 31, "type": "int"},
            "max_depth": {"low": 2, "high": 64, "type": "int", "log": True},
            "l2_regularization": {"choices": [0.0, 0.1, 1.0]},
            "loss": {"choices": ["log_loss", None, True]},
        }
    )
    rng = np.random.default_rng(0)
    lr = space["learning_rate"].rvs(size=2000, random_state=rng)
    assert lr.min() >= 0.02 and lr.max() <= 0.2
    # Log-uniform: as many draws below the geometric midpoint as above it.
    assert 0.45 < np.mean(lr < np.sqrt(0.02 * 0.2)) < 0.55
    sub = space["subsample"].rvs(size=2000, random_state=rng)
    assert sub.min() >= 0.5 and sub.max() <= 1.0
    assert space["max_leaf_nodes"].support() == (7, 31)  # high is inclusive
    depth = np.asarray(space["max_depth"].rvs(size=5000, random_state=rng))
    assert depth.dtype.kind == "i" and depth.min() == 2 and depth.max() == 64
    assert np.mean(depth < 12) > 0.4  # ~log(12/2)/log(65/2) ≈ 0.51, far above uniform's 0.16
    assert space["l2_regularization"] == [0.0, 0.1, 1.0]
    assert space["loss"] == ["log_loss", None, True]


def test_parse_space_empty_is_empty() -> None:
    assert parse_space({}) == {}


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (0.1, "must be a table"),
        ([0.1, 0.2], "must be a table"),
        ({"low": 0.1, "high": 1.0, "step": 0.1}, "unknown key"),
        ({"low": 1.0, "high": 1.0}, "less than high"),
        ({"low": 2, "high": 1, "type": "int"}, "less than high"),
        ({"low": 0.0, "high": 1.0, "log": True}, "low > 0"),
        ({"low": -1.0, "high": 1.0, "log": True}, "low > 0"),
        ({"choices": []}, "non-empty list"),
        ({"choices": "abc"}, "non-empty list"),
        ({"choices": [[1, 2]]}, "not a number"),
        ({"choices": [{"a": 1}]}, "not a number"),
        ({"choices": [1, 2], "low": 0}, "mixes choices"),
        ({"low": 0.1}, "needs both low and high"),
        ({"high": 0.1}, "needs both low and high"),
        ({"low": "0.1", "high": 1.0}, "finite number"),
        ({"low": True, "high": 3}, "finite number"),
        ({"low": 0.0, "high": float("inf")}, "finite number"),
        ({"low": float("nan"), "high": 1.0}, "finite number"),
        ({"low": 1.5, "high": 4, "type": "int"}, "whole number"),
        ({"low": 1, "high": 4, "type": "str"}, "type must be"),
        ({"low": 0.1, "high": 1.0, "log": "yes"}, "log must be"),
    ],
)
def test_parse_space_rejects_bad_entries_naming_the_parameter(spec: Any, problem: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_space({"learning_rate": {"low": 0.01, "high": 0.3}, "my_param": spec})
    assert "'my_param'" in err.value.message
    assert problem in err.value.message
    assert "\n" not in err.value.message


def test_parse_space_rejects_a_non_table() -> None:
    with pytest.raises(InvalidInput, match="search space"):
        parse_space([("C", {"low": 0.1, "high": 1.0})])  # type: ignore[arg-type]


# -- check_metric ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "metric"),
    [
        ("classification", "roc_auc"),
        ("classification", "accuracy"),
        ("classification", "neg_log_loss"),
        ("classification", "f1_macro"),
        ("regression", "neg_root_mean_squared_error"),
        ("regression", "r2"),
        ("regression", "neg_mean_absolute_error"),
    ],
)
def test_check_metric_accepts_scorers_for_the_task(task: str, metric: str) -> None:
    check_metric(task, metric)


@pytest.mark.parametrize(
    ("task", "metric", "expected"),
    [
        ("classification", "r2", "is a regression metric"),
        ("regression", "roc_auc", "is a classification metric"),
        ("classification", "adjusted_rand_score", "not a classification or regression"),
        ("regression", "rmse", "'neg_root_mean_squared_error'"),
        ("regression", "root_mean_squared_error", "'neg_root_mean_squared_error'"),
        ("classification", "log_loss", "'neg_log_loss'"),
        ("classification", "auc", "'roc_auc'"),
        ("classification", "goodness", "try one of: roc_auc"),
        ("regression", "", "try one of: neg_root_mean_squared_error"),
    ],
)
def test_check_metric_rejects_with_a_useful_hint(task: str, metric: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_metric(task, metric)
    assert expected in err.value.message


def test_check_metric_rejects_an_unknown_task() -> None:
    with pytest.raises(InvalidInput, match="unknown task 'clustering'"):
        check_metric("clustering", "accuracy")


# -- constructor validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"strategy": "grid"}, "unknown search strategy 'grid'"),
        ({"trials": 0}, "trials"),
        ({"trials": 2.5}, "trials"),
        ({"trials": True}, "trials"),
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"time_limit_s": -5.0}, "time_limit_s"),
        ({"time_limit_s": float("nan")}, "time_limit_s"),
        ({"cv": 1}, "cv"),
        ({"seed": -1}, "seed"),
        ({"seed": "7"}, "seed"),
        ({"metric": ""}, "metric"),
        ({"space": {"C": {"low": 1, "high": 0}}}, "'C'"),
        ({"on_trial": "print"}, "on_trial"),
    ],
)
def test_optimizer_rejects_bad_settings(kwargs: dict[str, Any], problem: str) -> None:
    settings: dict[str, Any] = {"metric": "roc_auc", "space": LOGREG_SPACE, **kwargs}
    with pytest.raises(InvalidInput) as err:
        HyperparameterOptimizer(**settings)
    assert problem in err.value.message


def test_optimize_rejects_a_metric_for_the_other_task() -> None:
    X, y = classification_data()
    opt = HyperparameterOptimizer(metric="r2", space=LOGREG_SPACE, trials=2)
    with pytest.raises(InvalidInput, match="regression metric"):
        opt.optimize(logreg(), X, y, "classification")


def test_optimize_rejects_a_parameter_the_estimator_lacks() -> None:
    X, y = classification_data()
    opt = HyperparameterOptimizer(
        metric="roc_auc", space={"learning_rate": {"low": 0.01, "high": 0.3}}, trials=2
    )
    with pytest.raises(InvalidInput, match="'learning_rate' is not a parameter of Logistic"):
        opt.optimize(logreg(), X, y, "classification")


def test_optimize_rejects_a_class_rarer_than_the_folds() -> None:
    X, y = classification_data(n=60)
    y = np.zeros(60, dtype=int)
    y[:2] = 1
    opt = HyperparameterOptimizer(metric="accuracy", space=LOGREG_SPACE, trials=2, cv=3)
    with pytest.raises(InvalidInput, match="class 1 has 2 rows"):
        opt.optimize(logreg(), X, y, "classification")


def test_optimize_rejects_mismatched_lengths() -> None:
    X, y = classification_data()
    opt = HyperparameterOptimizer(metric="accuracy", space=LOGREG_SPACE, trials=2)
    with pytest.raises(InvalidInput, match="rows"):
        opt.optimize(logreg(), X, y[:-1], "classification")


# -- random search -----------------------------------------------------------------------


def test_empty_space_runs_no_search() -> None:
    X, y = classification_data()
    calls: list[tuple[Trial, int]] = []
    opt = HyperparameterOptimizer(
        metric="roc_auc", space={}, on_trial=lambda t, n: calls.append((t, n))
    )
    result = opt.optimize(logreg(), X, y, "classification")
    assert result == SearchResult("random", "roc_auc", {}, None, None, [], None)
    assert calls == []


def test_random_search_is_reproducible_with_a_seed() -> None:
    X, y = classification_data()
    space = {**LOGREG_SPACE, "class_weight": {"choices": [None, "balanced"]}}

    def run(seed: int) -> SearchResult:
        opt = HyperparameterOptimizer(metric="roc_auc", space=space, trials=4, seed=seed)
        return opt.optimize(logreg(), X, y, "classification")

    first, again, other = run(7), run(7), run(8)
    assert [t.params for t in first.trials] == [t.params for t in again.trials]
    assert [(t.score, t.std) for t in first.trials] == [(t.score, t.std) for t in again.trials]
    assert (first.best_params, first.best_score) == (again.best_params, again.best_score)
    assert [t.params for t in first.trials] != [t.params for t in other.trials]


def test_random_search_picks_the_best_trial_by_the_metric() -> None:
    X, y = classification_data()
    opt = HyperparameterOptimizer(metric="roc_auc", space=LOGREG_SPACE, trials=5, seed=3)
    result = opt.optimize(logreg(), X, y, "classification")

    assert [t.number for t in result.trials] == [1, 2, 3, 4, 5]
    assert all(t.status == "ok" and t.error is None for t in result.trials)
    scores = [t.score for t in result.trials]
    assert result.best_score == max(scores)
    best = result.trials[scores.index(max(scores))]  # the earliest of equal scores
    assert result.best_trial == best.number
    assert result.best_params == best.params
    assert result.strategy == "random" and result.metric == "roc_auc"
    assert result.stopped is None
    # C spans four decades on data with real signal: the metric must tell candidates apart.
    assert len(set(scores)) > 1
    # The recorded score is the configured metric on the documented folds, recomputed here.
    independent = cross_val_score(
        logreg().set_params(model__C=best.params["C"]),
        X,
        y,
        scoring="roc_auc",
        cv=StratifiedKFold(3, shuffle=True, random_state=3),
    )
    assert result.best_score == pytest.approx(independent.mean())
    assert best.std == pytest.approx(independent.std())
    for trial in result.trials:
        assert_plain_json(trial.params)
        assert trial.fit_time_s > 0
        json.dumps(dataclasses.asdict(trial))
    assert_plain_json(result.best_params)


def test_random_search_regression_rmse_picks_the_smallest_error() -> None:
    X, y = regression_data()
    opt = HyperparameterOptimizer(
        metric="neg_root_mean_squared_error", space=RIDGE_SPACE, trials=6, seed=1
    )
    result = opt.optimize(ridge(), X, y, "regression")

    scores = [t.score for t in result.trials]
    assert all(s is not None and s < 0 for s in scores)  # minus the RMSE
    assert result.best_score == max(scores)
    best = result.trials[result.best_trial - 1]
    assert result.best_params == best.params
    independent = cross_val_score(
        ridge().set_params(model__alpha=best.params["alpha"]),
        X,
        y,
        scoring="neg_root_mean_squared_error",
        cv=KFold(3, shuffle=True, random_state=1),
    )
    assert result.best_score == pytest.approx(independent.mean())
    # Noise sd is 2, so a good alpha lands near it; a huge alpha (up to 1000) would not.
    assert -result.best_score < 3.0


def test_a_failing_trial_is_recorded_and_the_search_continues() -> None:
    X, y = classification_data()
    space = {**LOGREG_SPACE, "solver": {"choices": ["lbfgs", "no-such-solver"]}}
    opt = HyperparameterOptimizer(metric="roc_auc", space=space, trials=8, seed=0)
    result = opt.optimize(logreg(), X, y, "classification")

    failed = [t for t in result.trials if t.status == "failed"]
    ok = [t for t in result.trials if t.status == "ok"]
    assert failed and ok and len(result.trials) == 8
    for t in failed:
        assert t.params["solver"] == "no-such-solver"
        assert t.score is None and t.std is None
        assert "solver" in t.error and "LogisticRegression" in t.error
        assert "\n" not in t.error
    assert all(t.params["solver"] == "lbfgs" and t.score is not None for t in ok)
    assert result.best_params["solver"] == "lbfgs"
    assert result.best_score == max(t.score for t in ok)


def test_every_trial_failing_is_an_error() -> None:
    X, y = classification_data()
    space = {"solver": {"choices": ["bogus-a", "bogus-b"]}}
    opt = HyperparameterOptimizer(metric="roc_auc", space=space, trials=2)
    with pytest.raises(MlcError, match="every trial failed: InvalidParameterError: The 'solver'"):
        opt.optimize(logreg(), X, y, "classification")


def test_time_limit_stops_starting_new_trials() -> None:
    X, y = classification_data()
    calls: list[int] = []
    opt = HyperparameterOptimizer(
        metric="roc_auc",
        space=LOGREG_SPACE,
        trials=6,
        time_limit_s=1e-9,
        on_trial=lambda t, n: calls.append(t.number),
    )
    result = opt.optimize(logreg(), X, y, "classification")

    assert len(result.trials) < 6
    assert result.stopped is not None
    assert "time limit" in result.stopped and "of 6 trials" in result.stopped
    assert result.best_trial == 1 and result.best_score == result.trials[0].score
    assert calls == [t.number for t in result.trials]


def test_on_trial_is_called_once_per_trial_with_the_expected_total() -> None:
    X, y = classification_data()
    calls: list[tuple[Trial, int]] = []
    opt = HyperparameterOptimizer(
        metric="accuracy",
        space=LOGREG_SPACE,
        trials=4,
        on_trial=lambda t, n: calls.append((t, n)),
    )
    result = opt.optimize(logreg(), X, y, "classification")
    assert [t for t, _ in calls] == result.trials
    assert [n for _, n in calls] == [4, 4, 4, 4]


def test_a_small_all_choices_space_is_searched_exhaustively() -> None:
    X, y = classification_data()
    calls: list[int] = []
    opt = HyperparameterOptimizer(
        metric="accuracy",
        space={"C": {"choices": [0.1, 1.0]}},
        trials=10,
        on_trial=lambda t, n: calls.append(n),
    )
    result = opt.optimize(logreg(), X, y, "classification")
    assert sorted(t.params["C"] for t in result.trials) == [0.1, 1.0]
    assert calls == [2, 2]


def test_int_log_space_gives_plain_ints_to_the_estimator() -> None:
    X, y = classification_data()
    opt = HyperparameterOptimizer(
        metric="accuracy",
        space={"max_iter": {"low": 50, "high": 400, "type": "int", "log": True}},
        trials=3,
    )
    result = opt.optimize(logreg(), X, y, "classification")
    for t in result.trials:
        assert type(t.params["max_iter"]) is int and 50 <= t.params["max_iter"] <= 400
        assert t.status == "ok"


# -- halving -----------------------------------------------------------------------------


def test_halving_runs_rounds_and_picks_from_the_last() -> None:
    X, y = classification_data(n=600)
    calls: list[tuple[Trial, int]] = []
    opt = HyperparameterOptimizer(
        strategy="halving",
        metric="roc_auc",
        space=LOGREG_SPACE,
        trials=9,
        seed=2,
        on_trial=lambda t, n: calls.append((t, n)),
    )
    result = opt.optimize(logreg(), X, y, "classification")

    assert result.strategy == "halving" and result.stopped is None
    rounds = sorted({t.iteration for t in result.trials})
    assert rounds == [0, 1, 2]  # 9 candidates, then 3, then 1 (factor 3)
    assert [sum(t.iteration == r for t in result.trials) for r in rounds] == [9, 3, 1]
    assert [t.number for t in result.trials] == list(range(1, 14))
    resources = {r: {t.resources for t in result.trials if t.iteration == r} for r in rounds}
    assert all(len(v) == 1 for v in resources.values())
    sizes = [resources[r].pop() for r in rounds]
    assert sizes[0] < sizes[1] < sizes[2]
    # "exhaust": the last round uses (almost) all rows.
    assert sizes[2] > 0.9 * 600
    # Each later round's candidates come from the round before.
    first_round = [t.params for t in result.trials if t.iteration == 0]
    assert all(t.params in first_round for t in result.trials if t.iteration > 0)

    last = [t for t in result.trials if t.iteration == 2]
    best = result.trials[result.best_trial - 1]
    assert best.iteration == 2
    assert result.best_score == max(t.score for t in last) == best.score
    assert result.best_params == best.params
    assert_plain_json(result.best_params)
    for trial in result.trials:
        assert_plain_json(trial.params)
        json.dumps(dataclasses.asdict(trial))

    # Progress: one call per trial, each knowing the total the search will run.
    assert [t for t, _ in calls] == result.trials
    assert {n for _, n in calls} == {13}


def test_halving_is_reproducible_and_records_failed_candidates() -> None:
    X, y = classification_data(n=600)
    space = {**LOGREG_SPACE, "solver": {"choices": ["lbfgs", "no-such-solver"]}}

    def run() -> SearchResult:
        opt = HyperparameterOptimizer(
            strategy="halving", metric="roc_auc", space=space, trials=6, seed=0
        )
        return opt.optimize(logreg(), X, y, "classification")

    result, again = run(), run()
    assert [(t.params, t.score) for t in result.trials] == [
        (t.params, t.score) for t in again.trials
    ]
    failed = [t for t in result.trials if t.status == "failed"]
    assert failed
    for t in failed:
        assert t.params["solver"] == "no-such-solver" and t.score is None
        assert "'solver' parameter of LogisticRegression" in t.error
    assert result.best_params["solver"] == "lbfgs"


def test_halving_time_limit_aborts_with_a_clear_error() -> None:
    X, y = classification_data(n=600)
    opt = HyperparameterOptimizer(
        strategy="halving", metric="roc_auc", space=LOGREG_SPACE, trials=9, time_limit_s=1e-9
    )
    with pytest.raises(MlcError, match="halving search exceeded its time limit"):
        opt.optimize(logreg(), X, y, "classification")


def test_halving_with_every_trial_failing_is_an_error() -> None:
    X, y = classification_data(n=600)
    opt = HyperparameterOptimizer(
        strategy="halving",
        metric="roc_auc",
        space={"solver": {"choices": ["bogus-a", "bogus-b"]}},
        trials=2,
    )
    with pytest.raises(MlcError, match="every trial failed: InvalidParameterError: The 'solver'"):
        opt.optimize(logreg(), X, y, "classification")


def test_halving_regression() -> None:
    X, y = regression_data(n=450)
    opt = HyperparameterOptimizer(
        strategy="halving",
        metric="neg_root_mean_squared_error",
        space=RIDGE_SPACE,
        trials=4,
        seed=5,
    )
    result = opt.optimize(ridge(), X, y, "regression")
    last_round = max(t.iteration for t in result.trials)
    assert last_round >= 1
    finalists = [t for t in result.trials if t.iteration == last_round]
    assert result.best_score == max(t.score for t in finalists)


def test_distributions_from_parse_space_are_scipy_or_lists() -> None:
    space = parse_space({"a": {"low": 1, "high": 2}, "b": {"choices": [1]}})
    assert isinstance(space["a"], stats.distributions.rv_frozen)
    assert space["b"] == [1]
