"""Successive-halving pieces: a `HalvingRandomSearchCV` that reports each round as it
finishes, the exception that stops it at its time limit, and the round results as trials."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, cast

from sklearn.experimental import enable_halving_search_cv  # noqa: F401  # pyright: ignore[reportUnusedImport, reportMissingTypeStubs]  # imported to unlock the import below; scikit-learn ships no stubs
from sklearn.model_selection import HalvingRandomSearchCV  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs

from core.training.search.results import Trial
from core.training.search.space import plain

HALVING_FACTOR = 3


class HalvingTimeLimit(BaseException):
    """Raised inside the scorer to abort a halving search.

    A BaseException because scikit-learn turns any Exception raised while scoring into
    `error_score` and carries on; this must travel up through the search instead.
    """


class ReportingHalvingSearch(HalvingRandomSearchCV):
    """`HalvingRandomSearchCV` that reports each round's results as soon as it finishes.

    `_run_search` is scikit-learn's documented hook for scheduling evaluations; wrapping the
    `evaluate_candidates` it receives is the one place finished candidates are visible before
    the whole search ends.
    """

    mlc_on_round: Callable[[Mapping[str, Any], int], None] | None = None

    def _run_search(self, evaluate_candidates: Any, *, callback_ctx: Any = None) -> None:
        def reporting(candidate_params: Any, *args: Any, **kwargs: Any) -> Any:
            candidates = list(candidate_params)
            results = evaluate_candidates(candidates, *args, **kwargs)
            if self.mlc_on_round is not None:
                self.mlc_on_round(results, len(candidates))
            return results

        # scikit-learn < 1.9 has no callback context; pass it only when we were given one.
        extra = {} if callback_ctx is None else {"callback_ctx": callback_ctx}
        run_search = cast("Callable[..., None]", super()._run_search)  # untyped in scikit-learn
        run_search(reporting, **extra)


def halving_total(n_candidates: int, factor: int, min_resources: int, max_resources: int) -> int:
    """How many trials a halving search will run: scikit-learn's schedule, for progress only."""
    required = 1 + math.floor(math.log(n_candidates, factor))
    possible = 1 + math.floor(math.log(max_resources // min_resources, factor))
    total, remaining = 0, n_candidates
    for _ in range(min(required, possible)):
        total += remaining
        remaining = math.ceil(remaining / factor)
    return total


def halving_trial(
    index: int, results: Mapping[str, Any], n_splits: int, errors: list[str]
) -> Trial:
    """Candidate ``index`` of a round's ``cv_results_`` as a `Trial` (fit and score time summed
    over the ``n_splits`` folds; ``errors`` are the round's fit errors)."""
    params = {str(k).removeprefix("model__"): plain(v) for k, v in results["params"][index].items()}
    mean = float(results["mean_test_score"][index])
    std = float(results["std_test_score"][index])
    elapsed = float(results["mean_fit_time"][index] + results["mean_score_time"][index])
    ok = math.isfinite(mean)
    error = None
    if not ok:
        # scikit-learn reports fit errors per round, not per candidate.
        error = "; ".join(errors) if errors else "a fit or score failed on at least one fold"
    return Trial(
        number=index + 1,
        params=params,
        score=mean if ok else None,
        std=std if ok else None,
        fit_time_s=elapsed * n_splits,
        status="ok" if ok else "failed",
        error=error,
        resources=int(results["n_resources"][index]),
        iteration=int(results["iter"][index]),
    )
