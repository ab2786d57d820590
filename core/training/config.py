"""`TrainingConfig`: a TOML file that says what to train, on what, how to tune and when to accept.

Parsing is strict: an unknown section or key is an error naming it, because a misspelt gate
(`[gate]`, `mni = …`) silently ignored is a weaker model silently deployed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from core import names
from core.domain import Task
from core.errors import InvalidInput
from core.inputs import read_toml

_SECTIONS: dict[str, set[str]] = {
    "model": {"name", "task", "description"},
    "data": {"path", "entities", "target", "timestamp", "exclude", "features", "categorical"},
    "split": {"method", "holdout", "seed", "column"},
    "algorithm": {"name", "params"},
    "search": {"strategy", "trials", "time_limit_s", "cv", "seed", "metric", "space"},
    "gates": {"min", "max", "champion_metric", "champion_tolerance"},
}


@dataclass(frozen=True)
class DataSpec:
    path: Path
    target: str
    timestamp: str | None = None
    exclude: tuple[str, ...] = ()
    features: tuple[str, ...] | None = None
    categorical: tuple[str, ...] = ()
    """Numeric-looking columns to treat as categories (codes, zip prefixes)."""
    feature_refs: tuple[str, ...] = ()
    """`view:feature` references: `path` is then an entity file (keys, label, timestamp)
    that the owner joins point-in-time with these features from the feature store."""


@dataclass(frozen=True)
class SplitSpec:
    method: str = "random"
    holdout: float = 0.2
    seed: int = 42
    column: str | None = None


@dataclass(frozen=True)
class SearchSpec:
    strategy: str = "random"
    trials: int = 10
    time_limit_s: float | None = None
    cv: int = 3
    seed: int = 0
    metric: str | None = None
    space: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GateSpec:
    minimums: dict[str, float] = field(default_factory=dict)
    maximums: dict[str, float] = field(default_factory=dict)
    champion_metric: str | None = None
    champion_tolerance: float = 0.0


@dataclass(frozen=True)
class TrainingConfig:
    model: str | None
    task: Task | None
    description: str
    data: DataSpec
    split: SplitSpec
    algorithm: str
    params: dict[str, Any]
    search: SearchSpec
    gates: GateSpec
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    """The config as written, recorded with the version for lineage."""


def load_config(path: str | Path) -> TrainingConfig:
    path = Path(path)
    raw = read_toml(path, "training config")
    return parse_config(raw, base_dir=path.parent.resolve(), source=path)


def parse_config(
    raw: dict[str, Any], *, base_dir: Path, source: Path | None = None
) -> TrainingConfig:
    where = str(source) if source else "training config"
    for section, value in raw.items():
        if section not in _SECTIONS:
            raise InvalidInput(
                f"{where}: unknown section [{section}]; expected one of {', '.join(_SECTIONS)}"
            )
        if not isinstance(value, dict):
            raise InvalidInput(f"{where}: [{section}] must be a table")
        unknown = set(cast("dict[str, object]", value)) - _SECTIONS[section]  # TOML keys: str
        if unknown:
            raise InvalidInput(
                f"{where}: unknown key {section}.{sorted(unknown)[0]}; [{section}] takes "
                + ", ".join(sorted(_SECTIONS[section]))
            )
    for required in ("data", "algorithm"):
        if required not in raw:
            raise InvalidInput(f"{where}: missing section [{required}]")

    m = raw.get("model", {})
    model = _opt_str(m, "name", "model")
    if model is not None:
        names.model_name(model)
    task = None
    if (t := _opt_str(m, "task", "model")) is not None:
        try:
            task = Task(t)
        except ValueError:
            raise InvalidInput(
                f"{where}: model.task must be classification or regression"
            ) from None

    d = raw["data"]
    target = names.column(_req_str(d, "target", "data"), "target")
    if "entities" in d:
        data = _feature_store_data(d, target, base_dir, where)
    else:
        data_path = _req_str(d, "path", "data")
        resolved = Path(data_path) if Path(data_path).is_absolute() else base_dir / data_path
        data = DataSpec(
            path=resolved,
            target=target,
            timestamp=_opt_str(d, "timestamp", "data"),
            exclude=_str_tuple(d, "exclude", "data"),
            features=_str_tuple(d, "features", "data") if "features" in d else None,
            categorical=_str_tuple(d, "categorical", "data"),
        )

    s = raw.get("split", {})
    method = _opt_str(s, "method", "split") or "random"
    if method not in ("random", "time"):
        raise InvalidInput(f"{where}: split.method must be random or time, not {method!r}")
    holdout = _number(s, "holdout", "split", 0.2)
    if not 0.0 < holdout < 1.0:
        raise InvalidInput(f"{where}: split.holdout must be between 0 and 1, got {holdout}")
    column = _opt_str(s, "column", "split") or data.timestamp
    if method == "time" and column is None:
        raise InvalidInput(f"{where}: a time split needs split.column or data.timestamp")
    split = SplitSpec(method, holdout, _integer(s, "seed", "split", 42), column)

    a = raw["algorithm"]
    algorithm = _req_str(a, "name", "algorithm")
    params: object = a.get("params", {})
    if not isinstance(params, dict):
        raise InvalidInput(f"{where}: algorithm.params must be a table")

    q = raw.get("search", {})
    space: object = q.get("space", {})
    if not isinstance(space, dict):
        raise InvalidInput(f"{where}: [search.space] must be a table")
    time_limit = q.get("time_limit_s")
    search = SearchSpec(
        strategy=_opt_str(q, "strategy", "search") or "random",
        trials=_integer(q, "trials", "search", 10),
        time_limit_s=None if time_limit is None else _number(q, "time_limit_s", "search", 0),
        cv=_integer(q, "cv", "search", 3),
        seed=_integer(q, "seed", "search", 0),
        metric=_opt_str(q, "metric", "search"),
        space=dict(cast("dict[str, Any]", space)),  # a TOML table
    )
    if search.strategy not in ("random", "halving"):
        raise InvalidInput(f"{where}: search.strategy must be random or halving")
    if search.trials < 1 or search.cv < 2:
        raise InvalidInput(f"{where}: search.trials must be ≥ 1 and search.cv ≥ 2")

    g = raw.get("gates", {})
    gates = GateSpec(
        minimums=_metric_table(g, "min", where),
        maximums=_metric_table(g, "max", where),
        champion_metric=_opt_str(g, "champion_metric", "gates"),
        champion_tolerance=_number(g, "champion_tolerance", "gates", 0.0),
    )
    if gates.champion_tolerance < 0:
        raise InvalidInput(f"{where}: gates.champion_tolerance cannot be negative")

    return TrainingConfig(
        model=model,
        task=task,
        description=_opt_str(m, "description", "model") or "",
        data=data,
        split=split,
        algorithm=algorithm,
        params=dict(cast("dict[str, Any]", params)),  # a TOML table
        search=search,
        gates=gates,
        source=source,
        raw=raw,
    )


def _feature_store_data(d: dict[str, Any], target: str, base_dir: Path, where: str) -> DataSpec:
    """`[data] entities = "labels.parquet"`, `features = ["view:feature", ...]`: a training set
    built from the feature store, each label joined with the values valid at its time."""
    for key in ("path", "exclude", "categorical"):
        if key in d:
            raise InvalidInput(
                f"{where}: data.{key} does not go with data.entities (the features come from"
                " the feature store, typed by their views)"
            )
    entities = _req_str(d, "entities", "data")
    refs = _str_tuple(d, "features", "data")
    if not refs or any(r.count(":") != 1 for r in refs):
        raise InvalidInput(
            f"{where}: with data.entities, data.features lists feature-store references,"
            ' e.g. features = ["customer_profile:age", "credit_bureau:*"]'
        )
    timestamp = _opt_str(d, "timestamp", "data")
    if timestamp is None:
        raise InvalidInput(
            f"{where}: with data.entities, data.timestamp names each label's time (features"
            " are taken as they were then)"
        )
    path = Path(entities) if Path(entities).is_absolute() else base_dir / entities
    return DataSpec(path=path, target=target, timestamp=timestamp, feature_refs=refs)


def _req_str(table: dict[str, Any], key: str, section: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{section}.{key} is required and must be a string")
    return value


def _opt_str(table: dict[str, Any], key: str, section: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{section}.{key} must be a string, got {value!r}")
    return value


def _str_tuple(table: dict[str, Any], key: str, section: str) -> tuple[str, ...]:
    value: object = table.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) for v in cast("list[object]", value)
    ):
        raise InvalidInput(f"{section}.{key} must be a list of column names")
    return tuple(cast("list[str]", value))


def _number(table: dict[str, Any], key: str, section: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{section}.{key} must be a number, got {value!r}")
    return float(value)


def _integer(table: dict[str, Any], key: str, section: str, default: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{section}.{key} must be an integer, got {value!r}")
    return value


def _metric_table(table: dict[str, Any], key: str, where: str) -> dict[str, float]:
    value: object = table.get(key, {})
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: gates.{key} must be a table of metric = number")
    metrics = cast("dict[str, Any]", value)  # a TOML table
    return {str(k): _number(metrics, k, f"gates.{key}", 0.0) for k in metrics}
