"""The estimator catalogue: each algorithm is a scikit-learn Pipeline with preprocessing.

Numeric columns are median-imputed (with a missing-indicator) and, for linear models, scaled;
categorical columns are imputed with a constant and one-hot encoded, ignoring categories never
seen in training (they appear in production sooner or later).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sklearn.compose import ColumnTransformer  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
from sklearn.ensemble import (  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
from sklearn.linear_model import LogisticRegression, Ridge  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
from sklearn.pipeline import Pipeline  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs

from storage.errors import InvalidInput

Factory = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Algorithm:
    name: str
    task: str
    make: Factory
    scaled: bool
    """Linear models need scaled inputs; trees do not."""


def _logreg(p: dict[str, Any]) -> Any:
    params: dict[str, Any] = {"max_iter": 2000, **p}
    return LogisticRegression(**params)


def _rf_clf(p: dict[str, Any]) -> Any:
    params: dict[str, Any] = {"n_estimators": 200, "n_jobs": 1, "random_state": 0, **p}
    return RandomForestClassifier(**params)


def _rf_reg(p: dict[str, Any]) -> Any:
    params: dict[str, Any] = {"n_estimators": 200, "n_jobs": 1, "random_state": 0, **p}
    return RandomForestRegressor(**params)


def _hgb_clf(p: dict[str, Any]) -> Any:
    params: dict[str, Any] = {"random_state": 0, **p}
    return HistGradientBoostingClassifier(**params)


def _hgb_reg(p: dict[str, Any]) -> Any:
    params: dict[str, Any] = {"random_state": 0, **p}
    return HistGradientBoostingRegressor(**params)


def _ridge(p: dict[str, Any]) -> Any:
    return Ridge(**p)


CATALOGUE: dict[tuple[str, str], Algorithm] = {
    (a.task, a.name): a
    for a in (
        Algorithm("logistic_regression", "classification", _logreg, scaled=True),
        Algorithm("random_forest", "classification", _rf_clf, scaled=False),
        Algorithm("hist_gradient_boosting", "classification", _hgb_clf, scaled=False),
        Algorithm("ridge", "regression", _ridge, scaled=True),
        Algorithm("random_forest", "regression", _rf_reg, scaled=False),
        Algorithm("hist_gradient_boosting", "regression", _hgb_reg, scaled=False),
    )
}


def algorithm(task: str, name: str) -> Algorithm:
    try:
        return CATALOGUE[(task, name)]
    except KeyError:
        names = sorted(n for t, n in CATALOGUE if t == task)
        raise InvalidInput(
            f"unknown algorithm {name!r} for {task}; choose one of: {', '.join(names)}"
        ) from None


def build_pipeline(
    task: str,
    name: str,
    numeric: list[str],
    categorical: list[str],
    params: dict[str, Any] | None = None,
) -> Pipeline:
    """A fresh, unfitted pipeline; `params` go to the estimator (step ``model``)."""
    algo = algorithm(task, name)
    num_steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy="median", add_indicator=True))
    ]
    if algo.scaled:
        num_steps.append(("scale", StandardScaler()))
    cat_steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy="constant", fill_value="__missing__")),
        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
    ]
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("num", Pipeline(num_steps), numeric))
    if categorical:
        transformers.append(("cat", Pipeline(cat_steps), categorical))
    pre = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    try:
        model = algo.make(dict(params or {}))
    except TypeError as e:
        raise InvalidInput(f"bad parameters for {name}: {e}") from e
    return Pipeline([("prepare", pre), ("model", model)])
