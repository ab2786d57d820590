"""The scikit-learn calls the search makes, with the types scikit-learn documents.

scikit-learn ships no type hints. pyright infers its signatures from the code, so their
parameters come out unknown, or typed by a default value alone (`HalvingRandomSearchCV`'s
`cv: int`, `BaseCrossValidator.get_n_splits() -> None`). Each call is declared here once,
so the code around it is checked rather than silenced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

import numpy as np
import polars as pl
import sklearn.base  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
import sklearn.metrics  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
import sklearn.model_selection  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
from sklearn.pipeline import Pipeline  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs

Scorer = Callable[[Any, Any, Any], float]
"""`scorer(estimator, X, y)`: the score of a fitted estimator on (X, y), greater is better."""


class _CrossValidate(Protocol):
    def __call__(
        self,
        estimator: Pipeline,
        X: pl.DataFrame,
        y: np.ndarray,
        *,
        scoring: Scorer,
        cv: sklearn.model_selection.BaseCrossValidator,
        n_jobs: int,
        error_score: str | float,
    ) -> dict[str, np.ndarray]: ...


class _Fits(Protocol):
    def fit(self, X: pl.DataFrame, y: np.ndarray, /) -> object: ...


class _HasParams(Protocol):
    def get_params(self, deep: bool = True) -> dict[str, object]: ...


get_scorer = cast("Callable[[str], Scorer]", sklearn.metrics.get_scorer)
"""The scorer scikit-learn names `name` (`ValueError` for an unknown name)."""

cross_validate = cast("_CrossValidate", sklearn.model_selection.cross_validate)
"""scikit-learn's `cross_validate`: per-fold arrays keyed `test_score`, `fit_time`, …"""


clone = cast("Callable[[Pipeline], Pipeline]", sklearn.base.clone)
"""An unfitted copy of a pipeline with the same parameters."""


def model_step(pipeline: Pipeline) -> object:
    """The estimator of a catalogue pipeline (its step named `model`)."""
    return cast("object", pipeline.named_steps["model"])


def check_params(estimator: object) -> None:
    """Raise what `fit` would raise for an invalid parameter, without fitting.

    scikit-learn checks parameters only in `fit`; `BaseEstimator._validate_params` (private,
    present since 1.2) is the check on its own."""
    validate: Callable[[], None] = getattr(estimator, "_validate_params")  # noqa: B009
    validate()


def fit(estimator: object, X: pl.DataFrame, y: np.ndarray) -> None:
    """`estimator.fit(X, y)`, for any scikit-learn estimator (a pipeline, a search)."""
    cast("_Fits", estimator).fit(X, y)


def param_names(estimator: object) -> set[str]:
    """The names `estimator.set_params` accepts (nested ones as `step__name`)."""
    return set(cast("_HasParams", estimator).get_params(deep=True))


def with_model_params(pipeline: Pipeline, params: Mapping[str, object]) -> Pipeline:
    """An unfitted copy of `pipeline` whose `model` step takes `params`."""
    copy = clone(pipeline)
    set_params = cast("Callable[..., Pipeline]", copy.set_params)
    return set_params(**{f"model__{k}": v for k, v in params.items()})


def n_splits(splitter: sklearn.model_selection.BaseCrossValidator) -> int:
    """How many folds `splitter` makes (its `get_n_splits()`, typed `None` by inference)."""
    return cast("Callable[[], int]", splitter.get_n_splits)()
