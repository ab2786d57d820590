"""Which scikit-learn scorer names a search may optimise, per task, and what to say about
the names people write from habit."""

from __future__ import annotations

from sklearn.metrics import get_scorer_names  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs

from core.errors import InvalidInput
from core.training.search.sklearn_api import get_scorer

TASKS = ("classification", "regression")

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


def non_empty_text(value: object) -> bool:
    """A non-empty str: metric names also come from Python callers the checker never saw."""
    return isinstance(value, str) and bool(value)


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
    if not non_empty_text(metric):
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
