"""Hyperparameter search: the seed's `HyperparameterOptimizer`.

A training config's `[search]` section names a strategy, a budget (trials, time limit), the CV
folds, a seed, a scikit-learn scorer name and a `[search.space]` of estimator parameters. This
package turns that into trials over a catalogue pipeline (`core.training.catalogue`), whose
estimator step is named ``model``.

Two strategies:

- ``random``: `trials` candidates from `ParameterSampler`, each cross-validated in turn. A
  candidate whose fit raises is recorded as failed and the search goes on; once the time limit
  has passed no new trial starts, and the result says so in `stopped`.
- ``halving``: scikit-learn's `HalvingRandomSearchCV` (successive halving over the number of
  rows): many candidates on a few rows, the best third on three times as many, and so on, until
  the last round uses (almost) all rows. The winner is the best candidate of the last round.
  Halving cannot be stopped part-way with a meaningful winner, so exceeding its time limit
  raises `MlcError` instead of returning a partial result.

Scores follow scikit-learn's scorer convention: greater is better (`neg_root_mean_squared_error`
is minus the RMSE).

Modules: `optimizer` (`HyperparameterOptimizer`), `space` (the `[search.space]` table),
`metric` (scorer names per task), `halving` (the reporting halving search), `results`
(`Trial`, `SearchResult`), `fit_errors` (what a failed trial says). Import the names from here.
"""

from core.training.search.halving import HALVING_FACTOR
from core.training.search.metric import TASKS, check_metric
from core.training.search.optimizer import STRATEGIES, HyperparameterOptimizer
from core.training.search.results import SearchResult, Trial
from core.training.search.space import parse_space

__all__ = [
    "HALVING_FACTOR",
    "STRATEGIES",
    "TASKS",
    "HyperparameterOptimizer",
    "SearchResult",
    "Trial",
    "check_metric",
    "parse_space",
]
