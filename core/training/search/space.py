"""The `[search.space]` table of a training config, parsed into distributions
`ParameterSampler` draws from."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from scipy import stats

from core.errors import InvalidInput

_SPACE_KEYS = ("low", "high", "log", "type", "choices")


class _IntLogUniform:
    """Integers in [low, high] whose logarithm is roughly uniform (for sizes such as leaf counts).

    scipy has no integer log-uniform distribution; flooring a log-uniform draw on
    [low, high + 1) gives each integer k the mass log((k + 1) / k), the discrete analogue.
    """

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high
        self._dist = stats.loguniform(low, high + 1)

    def rvs(
        self,
        size: int | tuple[int, ...] | None = None,
        random_state: int | np.random.Generator | np.random.RandomState | None = None,
    ) -> Any:
        """Draw like a scipy frozen distribution (the interface `ParameterSampler` calls)."""
        draws = np.floor(self._dist.rvs(size=size, random_state=random_state)).astype(np.int64)
        # The float draw is < high + 1, but guard against rounding at the top edge.
        return np.minimum(draws, self.high)

    def __repr__(self) -> str:
        return f"IntLogUniform({self.low}, {self.high})"


def parse_space(space: object) -> dict[str, Any]:
    """Turn a `[search.space]` table into distributions `ParameterSampler` understands.

    Each entry is one of:
    ``{low, high}`` (uniform float), ``{low, high, log = true}`` (log-uniform float),
    ``{low, high, type = "int"}`` (uniform integer, high inclusive), ``{low, high, type = "int",
    log = true}`` (log-uniform integer), or ``{choices = [...]}`` (one of the listed scalars).
    Anything else (a space that is not a table included) raises `InvalidInput` naming the
    parameter.
    """
    if not isinstance(space, Mapping):
        raise InvalidInput(
            "the search space must be a table of parameter = {low, high} or {choices = [...]}"
        )
    parsed: dict[str, Any] = {}
    for name, spec in cast("Mapping[object, object]", space).items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"search space parameter name {name!r} must be a non-empty string")
        parsed[name] = _parse_entry(name, spec)
    return parsed


def _parse_entry(name: str, entry: object) -> Any:
    where = f"search space parameter {name!r}"
    if not isinstance(entry, Mapping):
        raise InvalidInput(
            f"{where} must be a table such as {{low = 0.01, high = 1.0}} or "
            f"{{choices = [...]}}, got {entry!r}"
        )
    spec = cast("Mapping[object, Any]", entry)  # a TOML table: its values are any TOML value
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


def _parse_choices(where: str, spec: Mapping[object, Any]) -> list[Any]:
    others = sorted(str(k) for k in spec if k != "choices")
    if others:
        raise InvalidInput(f"{where} mixes choices with {', '.join(others)}; give one or the other")
    value: object = spec["choices"]
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise InvalidInput(f"{where}: choices must be a non-empty list")
    choices = cast("Sequence[object]", value)
    for choice in choices:
        # Only scalars: trial parameters are stored as JSON and shown in a table.
        if choice is not None and not isinstance(choice, bool | numbers.Real | str):
            raise InvalidInput(
                f"{where}: choice {choice!r} is not a number, string, boolean or null"
            )
    return [plain(c) for c in choices]


def plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds, so parameters serialise as JSON."""
    if isinstance(value, np.generic):
        return cast("np.generic[Any]", value).item()
    return value
