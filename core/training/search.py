"""Hyperparameter search: the seed's `HyperparameterOptimizer`.

A training config's `[search]` section names a strategy, a budget (trials, time limit), the CV
folds, a seed, a scikit-learn scorer name and a `[search.space]` of estimator parameters. This
module turns that into trials over a catalogue pipeline (`core.training.catalogue`), whose
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
"""

from __future__ import annotations

import math
import numbers
import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy import stats
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401  (unlocks the import below)
from sklearn.metrics import get_scorer, get_scorer_names
from sklearn.model_selection import (
    BaseCrossValidator,
    HalvingRandomSearchCV,
    KFold,
    ParameterSampler,
    StratifiedKFold,
    cross_validate,
)
from sklearn.pipeline import Pipeline

from core.errors import InvalidInput, MlcError

TASKS = ("classification", "regression")
STRATEGIES = ("random", "halving")
HALVING_FACTOR = 3

_SPACE_KEYS = ("low", "high", "log", "type", "choices")
_SUGGESTED = {
    "classification": ("roc_auc", "accuracy", "balanced_accuracy", "f1", "neg_log_loss"),
    "regression": ("neg_root_mean_squared_error", "neg_mean_absolute_error", "r2"),
}
# Names people write from habit (and that the `[gates]` section itself uses) mapped to the
# scikit-learn scorer that means the same thing, so the error can say exactly what to write.
_ALIASES = {
    "rmse": "neg_root_mean_squared_error",
    "mse": "neg_mean_squared_error",
    "mae": "neg_mean_absolute_error",
    "mape": "neg_mean_absolute_percentage_error",
    "auc": "roc_auc",
    "logloss": "neg_log_loss",
    "f1_score": "f1",
}


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


class _IntLogUniform:
    """Integers in [low, high] whose logarithm is roughly uniform (for sizes such as leaf counts).

    scipy has no integer log-uniform distribution; flooring a log-uniform draw on
    [low, high + 1) gives each integer k the mass log((k + 1) / k), the discrete analogue.
    """

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high
        self._dist = stats.loguniform(low, high + 1)

    def rvs(self, size: Any = None, random_state: Any = None) -> Any:
        """Draw like a scipy frozen distribution (the interface `ParameterSampler` calls)."""
        draws = np.floor(self._dist.rvs(size=size, random_state=random_state)).astype(np.int64)
        # The float draw is < high + 1, but guard against rounding at the top edge.
        return np.minimum(draws, self.high)

    def __repr__(self) -> str:
        return f"IntLogUniform({self.low}, {self.high})"


def parse_space(space: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a `[search.space]` table into distributions `ParameterSampler` understands.

    Each entry is one of:
    ``{low, high}`` (uniform float), ``{low, high, log = true}`` (log-uniform float),
    ``{low, high, type = "int"}`` (uniform integer, high inclusive), ``{low, high, type = "int",
    log = true}`` (log-uniform integer), or ``{choices = [...]}`` (one of the listed scalars).
    Anything else raises `InvalidInput` naming the parameter.
    """
    if not isinstance(space, Mapping):
        raise InvalidInput(
            "the search space must be a table of parameter = {low, high} or {choices = [...]}"
        )
    parsed: dict[str, Any] = {}
    for name, spec in space.items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"search space parameter name {name!r} must be a non-empty string")
        parsed[name] = _parse_entry(name, spec)
    return parsed


def _parse_entry(name: str, spec: Any) -> Any:
    where = f"search space parameter {name!r}"
    if not isinstance(spec, Mapping):
        raise InvalidInput(
            f"{where} must be a table such as {{low = 0.01, high = 1.0}} or "
            f"{{choices = [...]}}, got {spec!r}"
        )
    unknown = sorted(str(k) for k in spec if k not in _SPACE_KEYS)
    if unknown:
        raise InvalidInput(
            f"{where} has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_SPACE_KEYS)}"
        )
    if "choices" in spec:
        return _parse_choices(where, spec)
    if "low" not in spec or "high" not in spec:
        raise InvalidInput(f"{where} needs both low and high (or choices = [...])")
    kind = spec.get("type", "float")
    if kind not in ("float", "int"):
        raise InvalidInput(f"{where}: type must be 'int' or 'float', got {kind!r}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise InvalidInput(f"{where}: log must be true or false, got {log!r}")
    low, high = spec["low"], spec["high"]
    for label, value in (("low", low), ("high", high)):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
        ):
            raise InvalidInput(f"{where}: {label} must be a finite number, got {value!r}")
        if kind == "int" and not float(value).is_integer():
            raise InvalidInput(f"{where}: {label} must be a whole number for type = 'int'")
    if low >= high:
        raise InvalidInput(f"{where}: low ({low}) must be less than high ({high})")
    if log and low <= 0:
        raise InvalidInput(f"{where}: log = true needs low > 0, got low = {low}")
    if kind == "int":
        ilow, ihigh = int(low), int(high)
        return _IntLogUniform(ilow, ihigh) if log else stats.randint(ilow, ihigh + 1)
    low_f, high_f = float(low), float(high)
    if log:
        return stats.loguniform(low_f, high_f)
    return stats.uniform(loc=low_f, scale=high_f - low_f)


def _parse_choices(where: str, spec: Mapping[str, Any]) -> list[Any]:
    others = sorted(str(k) for k in spec if k != "choices")
    if others:
        raise InvalidInput(f"{where} mixes choices with {', '.join(others)}; give one or the other")
    choices = spec["choices"]
    if isinstance(choices, str) or not isinstance(choices, Sequence) or not choices:
        raise InvalidInput(f"{where}: choices must be a non-empty list")
    for choice in choices:
        # Only scalars: trial parameters are stored as JSON and shown in a table.
        if choice is not None and not isinstance(choice, bool | numbers.Real | str):
            raise InvalidInput(
                f"{where}: choice {choice!r} is not a number, string, boolean or null"
            )
    return [_plain(c) for c in choices]


def _task_of_metric(metric: str) -> str | None:
    """Which task a scorer serves, judged by where scikit-learn defines its metric function."""
    module = getattr(getattr(get_scorer(metric), "_score_func", None), "__module__", "") or ""
    if ".cluster" in module or metric.endswith("_samples"):
        return None  # clustering and multilabel-only scorers fit neither catalogue task
    if module.endswith("._regression"):
        return "regression"
    return "classification"


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise InvalidInput(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")


def check_metric(task: str, metric: str) -> None:
    """Raise `InvalidInput` unless `metric` is a scikit-learn scorer name suited to `task`."""
    _check_task(task)
    suggestions = ", ".join(_SUGGESTED[task])
    if not isinstance(metric, str) or not metric:
        raise InvalidInput(f"the search metric must be a scorer name; try one of: {suggestions}")
    names = set(get_scorer_names())
    if metric in names:
        served = _task_of_metric(metric)
        if served == task:
            return
        what = f"a {served} metric" if served else "not a classification or regression metric"
        raise InvalidInput(f"metric {metric!r} is {what}; for {task} try one of: {suggestions}")
    hint = _ALIASES.get(metric.lower())
    if hint is None and f"neg_{metric}" in names:
        hint = f"neg_{metric}"
    if hint is not None and hint in names and _task_of_metric(hint) == task:
        raise InvalidInput(
            f"unknown metric {metric!r}; scikit-learn scorers are greater-is-better, write {hint!r}"
        )
    raise InvalidInput(f"unknown metric {metric!r} for {task}; try one of: {suggestions}")


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
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
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
        if isinstance(cv, bool) or not isinstance(cv, int) or cv < 2:
            raise InvalidInput(f"search cv must be a whole number of folds >= 2, got {cv!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise InvalidInput(f"search seed must be a whole number in [0, 2**32), got {seed!r}")
        if not isinstance(metric, str) or not metric:
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

    def optimize(
        self, pipeline: Pipeline, X: pl.DataFrame, y: np.ndarray, task: str
    ) -> SearchResult:
        """Run the search on (X, y) and return every trial and the best parameters.

        Raises `InvalidInput` for a metric that does not suit the task, a parameter the
        estimator does not have, or data too small for the folds; `MlcError` when every trial
        fails, or when a halving search exceeds its time limit.
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
        model = pipeline.named_steps["model"]
        known = set(model.get_params(deep=True))
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
            candidates = [
                {k: _plain(v) for k, v in c.items()}
                for c in ParameterSampler(self.space, self.trials, random_state=self.seed)
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
        scorer: Any,
    ) -> Trial:
        started = time.perf_counter()
        try:
            estimator = clone(pipeline).set_params(**{f"model__{k}": v for k, v in params.items()})
            result = cross_validate(
                estimator, X, y, scoring=scorer, cv=splitter, n_jobs=1, error_score="raise"
            )
        except Exception as e:  # one bad combination fails its trial, not the whole search
            elapsed = time.perf_counter() - started
            return Trial(number, dict(params), None, None, elapsed, "failed", _describe(e))
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
                raise _HalvingTimeLimit
            return scorer(estimator, X_test, y_test)

        search = _ReportingHalvingSearch(
            clone(pipeline),
            {f"model__{k}": v for k, v in self.space.items()},
            n_candidates=self.trials,
            factor=HALVING_FACTOR,
            resource="n_samples",
            # "exhaust" sizes the first round so that the last one uses (almost) every row;
            # the default "smallest" would crown a winner judged on a few dozen rows.
            min_resources="exhaust",
            cv=splitter,
            scoring=timed_scorer,
            refit=False,
            error_score=np.nan,
            return_train_score=False,
            random_state=self.seed,
            n_jobs=1,
        )
        trials: list[Trial] = []
        n_splits = splitter.get_n_splits()
        state: dict[str, int] = {"expected": 0, "warnings_seen": 0}
        # Failed fits surface only as warnings, so record them to attach their messages to the
        # failed trials; everything else is re-issued afterwards. catch_warnings is
        # process-global, so run halving searches in worker processes, not side by side in threads.
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always", FitFailedWarning)

            def on_round(results: Mapping[str, Any], n_candidates: int) -> None:
                if not state["expected"]:
                    state["expected"] = _halving_total(
                        n_candidates, HALVING_FACTOR, search.min_resources_, search.max_resources_
                    )
                errors = _fit_errors(recorded[state["warnings_seen"] :])
                state["warnings_seen"] = len(recorded)
                n_results = len(results["params"])
                for index in range(n_results - n_candidates, n_results):
                    trial = _halving_trial(index, results, n_splits, errors)
                    trials.append(trial)
                    if self.on_trial is not None:
                        self.on_trial(trial, max(state["expected"], len(trials)))

            search.mlc_on_round = on_round
            try:
                search.fit(X, y)
            except _HalvingTimeLimit:
                raise MlcError(
                    f"the halving search exceeded its time limit of {self.time_limit_s:g} s "
                    f"after {len(trials)} completed trials; raise time_limit_s or use "
                    "strategy 'random'"
                ) from None
            except ValueError as e:
                text = str(e)
                if "fits failed" in text:
                    where = "every trial" if not trials else "every trial of a halving round"
                    raise MlcError(f"{where} failed: {_first_error(text)}") from None
                raise MlcError(f"the halving search failed: {_describe(e)}") from e
        for w in recorded:
            if not _is_consumed(w):
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


class _HalvingTimeLimit(BaseException):
    """Raised inside the scorer to abort a halving search.

    A BaseException because scikit-learn turns any Exception raised while scoring into
    `error_score` and carries on; this must travel up through the search instead.
    """


class _ReportingHalvingSearch(HalvingRandomSearchCV):
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
        super()._run_search(reporting, **extra)


def _halving_total(n_candidates: int, factor: int, min_resources: int, max_resources: int) -> int:
    """How many trials a halving search will run: scikit-learn's schedule, for progress only."""
    required = 1 + math.floor(math.log(n_candidates, factor))
    possible = 1 + math.floor(math.log(max_resources // min_resources, factor))
    total, remaining = 0, n_candidates
    for _ in range(min(required, possible)):
        total += remaining
        remaining = math.ceil(remaining / factor)
    return total


def _halving_trial(
    index: int, results: Mapping[str, Any], n_splits: int, errors: list[str]
) -> Trial:
    params = {
        str(k).removeprefix("model__"): _plain(v) for k, v in results["params"][index].items()
    }
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


def _is_consumed(w: warnings.WarningMessage) -> bool:
    """Warnings whose content the trials already carry (failed fits, NaN scores)."""
    text = str(w.message)
    return issubclass(w.category, FitFailedWarning) or (
        issubclass(w.category, UserWarning)
        and (text.startswith("Scoring failed") or text.startswith("One or more of the test"))
    )


def _fit_errors(messages: list[warnings.WarningMessage]) -> list[str]:
    """Distinct one-line errors from scikit-learn's fit- and score-failure warnings."""
    found: list[str] = []
    for w in messages:
        if not _is_consumed(w):
            continue
        for block in str(w.message).split("-" * 80):
            if "Traceback" in block:
                line = _first_error(block)
                if line not in found:
                    found.append(line)
    return found


def _first_error(text: str) -> str:
    """The exception line of the first traceback in `text`, without its module path."""
    block = text[text.find("Traceback") :] if "Traceback" in text else text
    # scikit-learn separates the tracebacks of different errors with a line of dashes.
    lines = block.split("-" * 80)[0].splitlines()
    # Frames are indented; the exception text starts after the last indented line.
    frame_end = max((i for i, line in enumerate(lines) if line.startswith(" ")), default=-1)
    tail = [line.strip() for line in lines[frame_end + 1 :] if line.strip()]
    return _shorten(" ".join(tail) or "unknown error")


def _describe(e: BaseException) -> str:
    # scikit-learn re-raises a nested parameter error under the outer function's name
    # ("parameter of cross_validate"); the original names the estimator.
    while isinstance(e.__cause__, type(e)):
        e = e.__cause__
    return _shorten(f"{type(e).__name__}: {' '.join(str(e).split())}")


def _shorten(message: str, limit: int = 300) -> str:
    head, sep, rest = message.partition(": ")
    if sep and re.fullmatch(r"[\w.]+", head):
        message = f"{head.rsplit('.', 1)[-1]}: {rest}"
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds, so parameters serialise as JSON."""
    if isinstance(value, np.generic):
        return value.item()
    return value
