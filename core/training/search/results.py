"""What a search returns: one `Trial` per evaluated candidate and the `SearchResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Trial:
    """One evaluated candidate."""

    number: int
    """1-based, in the order evaluated."""
    params: dict[str, Any]
    """Estimator parameters without the ``model__`` prefix, as plain JSON-ready scalars."""
    score: float | None
    """Mean CV score (greater is better); None if the trial failed."""
    std: float | None
    fit_time_s: float
    """Wall time of this trial's cross-validation (fits and scoring)."""
    status: str
    """"ok" or "failed"."""
    error: str | None = None
    resources: int | None = None
    """Halving only: the number of rows this trial was cross-validated on."""
    iteration: int | None = None
    """Halving only: the round, 0-based as in scikit-learn's ``cv_results_["iter"]``."""


@dataclass
class SearchResult:
    """The outcome of a search: every trial, the winner and why it stopped early (if it did)."""

    strategy: str
    metric: str
    best_params: dict[str, Any]
    best_score: float | None
    best_trial: int | None
    trials: list[Trial] = field(default_factory=list)
    stopped: str | None = None
