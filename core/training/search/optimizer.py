"""`HyperparameterOptimizer`: validates the search settings and runs the random or the
halving strategy (see the package docstring)."""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import numpy as np
import polars as pl
from sklearn.exceptions import FitFailedWarning  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
from sklearn.model_selection import (  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
    BaseCrossValidator,
    KFold,
    ParameterSampler,
    StratifiedKFold,
)
from sklearn.pipeline import Pipeline  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs

from core.errors import InvalidInput, MlcError
from core.training.search.fit_errors import describe, first_error, fit_errors, is_consumed
from core.training.search.halving import (
    HALVING_FACTOR,
    HalvingTimeLimit,
    ReportingHalvingSearch,
    halving_total,
    halving_trial,
)
from core.training.search.metric import check_metric, non_empty_text
from core.training.search.results import SearchResult, Trial
from core.training.search.sklearn_api import (
    Scorer,
    clone,
    cross_validate,
    fit,
    get_scorer,
    model_step,
    n_splits,
    param_names,
    with_model_params,
)
from core.training.search.space import parse_space, plain

STRATEGIES = ("random", "halving")


def _whole_number(value: object) -> bool:
    """An int and not a bool: settings also come from Python callers the checker never saw."""
    return isinstance(value, int) and not isinstance(value, bool)


class HyperparameterOptimizer:
    """Search estimator parameters of a catalogue pipeline by cross-validation."""

    def __init__(
        self,
        *,
        strategy: str = "random",
        trials: int = 10,
        time_limit_s: float | None = None,
        cv: int = 3,
        seed: int = 0,
        metric: str,
        space: Mapping[str, Any],
        on_trial: Callable[[Trial, int], None] | None = None,
    ) -> None:
        """Validate the settings (bad ones raise `InvalidInput`) and parse the space.

        `on_trial(trial, expected_total)` is called after each trial, for progress reporting.
        The metric is checked against the task in `optimize`, where the task is known.
        """
        if strategy not in STRATEGIES:
            raise InvalidInput(
                f"unknown search strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}"
            )
        if not _whole_number(trials) or trials < 1:
            raise InvalidInput(f"search trials must be a whole number >= 1, got {trials!r}")
        if time_limit_s is not None and (
            isinstance(time_limit_s, bool)
            or not isinstance(time_limit_s, numbers.Real)
            or not math.isfinite(time_limit_s)
            or time_limit_s <= 0
        ):
            raise InvalidInput(
                f"search time_limit_s must be a positive number of seconds, got {time_limit_s!r}"
            )
        if not _whole_number(cv) or cv < 2:
            raise InvalidInput(f"search cv must be a whole number of folds >= 2, got {cv!r}")
        if not _whole_number(seed) or not 0 <= seed < 2**32:
            raise InvalidInput(f"search seed must be a whole number in [0, 2**32), got {seed!r}")
        if not non_empty_text(metric):
            raise InvalidInput("the search metric must be a scikit-learn scorer name")
        if on_trial is not None and not callable(on_trial):
            raise InvalidInput("on_trial must be callable")
        self.strategy = strategy
        self.trials = trials
        self.time_limit_s = None if time_limit_s is None else float(time_limit_s)
        self.cv = cv
        self.seed = seed
        self.metric = metric
        self.space = parse_space(space)
        self.on_trial = on_trial

    def optimize(self, pipeline: object, X: pl.DataFrame, y: np.ndarray, task: str) -> SearchResult:
        """Run the search of catalogue `pipeline` on (X, y) and return every trial and the
        best parameters.

        Raises `InvalidInput` for anything but a catalogue pipeline, a metric that does not
        suit the task, a parameter the estimator does not have, or data too small for the
        folds; `MlcError` when every trial fails, or when a halving search exceeds its time
        limit.
        """
        check_metric(task, self.metric)
        if not isinstance(pipeline, Pipeline) or "model" not in pipeline.named_steps:
            raise InvalidInput("the search needs a catalogue pipeline with a 'model' step")
        y = np.asarray(y)
        if y.ndim != 1:
            raise InvalidInput(f"the target must be one column, got shape {y.shape}")
        if X.height != len(y):
            raise InvalidInput(f"X has {X.height} rows but the target has {len(y)}")
        self._check_param_names(pipeline)
        if not self.space:
            return SearchResult(self.strategy, self.metric, {}, None, None, [], None)
        splitter = self._splitter(task, y)
        if self.strategy == "random":
            return self._random(pipeline, X, y, splitter)
        return self._halving(pipeline, X, y, splitter)

    def _check_param_names(self, pipeline: Pipeline) -> None:
        # A misspelt name would otherwise fail every trial with a less direct message.
        model = model_step(pipeline)
        known = param_names(model)
        for name in self.space:
            if name not in known:
                raise InvalidInput(
                    f"search space parameter {name!r} is not a parameter of "
                    f"{type(model).__name__}; known: {', '.join(sorted(known))}"
                )

    def _splitter(self, task: str, y: np.ndarray) -> BaseCrossValidator:
        if task == "classification":
            classes, counts = np.unique(y, return_counts=True)
            if len(classes) < 2:
                raise InvalidInput("the target has a single class; classification needs two")
            rarest = int(counts.argmin())
            if counts[rarest] < self.cv:
                raise InvalidInput(
                    f"class {classes[rarest]} has {counts[rarest]} rows, "
                    f"fewer than the {self.cv} CV folds"
                )
            return StratifiedKFold(self.cv, shuffle=True, random_state=self.seed)
        if len(y) < self.cv:
            raise InvalidInput(f"{len(y)} rows are fewer than the {self.cv} CV folds")
        return KFold(self.cv, shuffle=True, random_state=self.seed)

    # -- random ---------------------------------------------------------------------------

    def _random(
        self, pipeline: Pipeline, X: pl.DataFrame, y: np.ndarray, splitter: BaseCrossValidator
    ) -> SearchResult:
        scorer = get_scorer(self.metric)
        with warnings.catch_warnings():
            # An all-choices space with fewer combinations than `trials` is searched
            # exhaustively; that is the documented behaviour, not worth a warning.
            warnings.simplefilter("ignore", UserWarning)
            sampler = ParameterSampler(self.space, self.trials, random_state=self.seed)
            candidates = [
                {k: plain(v) for k, v in c.items()}
                for c in cast("Iterable[dict[str, Any]]", sampler)  # one dict per candidate
            ]
        total = len(candidates)
        start = time.monotonic()
        trials: list[Trial] = []
        stopped: str | None = None
        for number, params in enumerate(candidates, start=1):
            # At least one trial always runs, so a result has something to report.
            if (
                number > 1
                and self.time_limit_s is not None
                and time.monotonic() - start >= self.time_limit_s
            ):
                stopped = (
                    f"time limit of {self.time_limit_s:g} s reached after "
                    f"{number - 1} of {total} trials"
                )
                break
            trial = self._run_trial(number, pipeline, params, X, y, splitter, scorer)
            trials.append(trial)
            if self.on_trial is not None:
                self.on_trial(trial, total)
        ok = [t for t in trials if t.status == "ok"]
        if not ok:
            raise MlcError(f"every trial failed: {trials[0].error}")
        # max() keeps the first of equal scores, so ties go to the earliest trial.
        best = max(ok, key=lambda t: t.score if t.score is not None else -math.inf)
        return SearchResult(
            self.strategy, self.metric, dict(best.params), best.score, best.number, trials, stopped
        )

    def _run_trial(
        self,
        number: int,
        pipeline: Pipeline,
        params: dict[str, Any],
        X: pl.DataFrame,
        y: np.ndarray,
        splitter: BaseCrossValidator,
        scorer: Scorer,
    ) -> Trial:
        started = time.perf_counter()
        try:
            estimator = with_model_params(pipeline, params)
            result = cross_validate(
                estimator, X, y, scoring=scorer, cv=splitter, n_jobs=1, error_score="raise"
            )
        except Exception as e:  # one bad combination fails its trial, not the whole search
            elapsed = time.perf_counter() - started
            return Trial(number, dict(params), None, None, elapsed, "failed", describe(e))
        elapsed = time.perf_counter() - started
        scores = np.asarray(result["test_score"], dtype=float)
        mean, std = float(scores.mean()), float(scores.std())
        if not math.isfinite(mean):
            return Trial(
                number, dict(params), None, None, elapsed, "failed", "the score is not a number"
            )
        return Trial(number, dict(params), mean, std, elapsed, "ok")

    # -- halving --------------------------------------------------------------------------

    def _halving(
        self, pipeline: Pipeline, X: pl.DataFrame, y: np.ndarray, splitter: BaseCrossValidator
    ) -> SearchResult:
        scorer = get_scorer(self.metric)
        deadline = None if self.time_limit_s is None else time.monotonic() + self.time_limit_s

        def timed_scorer(estimator: Any, X_test: Any, y_test: Any) -> float:
            # Called after every fit: the one hook inside the search that can stop it.
            if deadline is not None and time.monotonic() > deadline:
                raise HalvingTimeLimit
            return scorer(estimator, X_test, y_test)

        search = ReportingHalvingSearch(
            clone(pipeline),
            {f"model__{k}": v for k, v in self.space.items()},
            n_candidates=self.trials,  # pyright: ignore[reportArgumentType]  # typed str from its default "exhaust"; an int is documented
            factor=HALVING_FACTOR,
            resource="n_samples",
            # "exhaust" sizes the first round so that the last one uses (almost) every row;
            # the default "smallest" would crown a winner judged on a few dozen rows.
            min_resources="exhaust",
            cv=splitter,  # pyright: ignore[reportArgumentType]  # typed int from its default 5; a splitter is documented
            scoring=timed_scorer,
            refit=False,
            error_score=np.nan,
            return_train_score=False,
            random_state=self.seed,
            n_jobs=1,
        )
        trials: list[Trial] = []
        folds = n_splits(splitter)
        state: dict[str, int] = {"expected": 0, "warnings_seen": 0}
        # Failed fits surface only as warnings, so record them to attach their messages to the
        # failed trials; everything else is re-issued afterwards. catch_warnings is
        # process-global, so run halving searches in worker processes, not side by side in threads.
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always", FitFailedWarning)

            def on_round(results: Mapping[str, Any], n_candidates: int) -> None:
                if not state["expected"]:
                    # Both are whole numbers of rows once the search has started.
                    state["expected"] = halving_total(
                        n_candidates,
                        HALVING_FACTOR,
                        cast("int", search.min_resources_),
                        cast("int", search.max_resources_),
                    )
                errors = fit_errors(recorded[state["warnings_seen"] :])
                state["warnings_seen"] = len(recorded)
                n_results = len(results["params"])
                for index in range(n_results - n_candidates, n_results):
                    trial = halving_trial(index, results, folds, errors)
                    trials.append(trial)
                    if self.on_trial is not None:
                        self.on_trial(trial, max(state["expected"], len(trials)))

            search.mlc_on_round = on_round
            try:
                fit(search, X, y)
            except HalvingTimeLimit:
                raise MlcError(
                    f"the halving search exceeded its time limit of {self.time_limit_s:g} s "
                    f"after {len(trials)} completed trials; raise time_limit_s or use "
                    "strategy 'random'"
                ) from None
            except ValueError as e:
                text = str(e)
                if "fits failed" in text:
                    where = "every trial" if not trials else "every trial of a halving round"
                    raise MlcError(f"{where} failed: {first_error(text)}") from None
                raise MlcError(f"the halving search failed: {describe(e)}") from e
        for w in recorded:
            if not is_consumed(w):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return self._halving_result(trials)

    def _halving_result(self, trials: list[Trial]) -> SearchResult:
        last = max(t.iteration or 0 for t in trials)
        finalists = [t for t in trials if t.iteration == last and t.status == "ok"]
        if not finalists:
            failed = next(t for t in trials if t.iteration == last)
            raise MlcError(f"every candidate of the final halving round failed: {failed.error}")
        best = max(finalists, key=lambda t: t.score if t.score is not None else -math.inf)
        return SearchResult(
            self.strategy, self.metric, dict(best.params), best.score, best.number, trials, None
        )
