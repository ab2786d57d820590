"""Traffic maps ({version: weight}): checked, normalised and described, for everyone who
writes or shows one (deployments, A/B tests, rollouts, the interfaces) and for the splitter
that serves them (`core.serving.splitter`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from core.errors import InvalidInput

_VERSION = re.compile(r"^v[1-9][0-9]*$")


def _check_weight(version: object, weight: object, unit: str) -> float:
    """One weight: a real, finite, non-negative number; `unit` names it in messages."""
    if not isinstance(version, str) or not _VERSION.match(version):
        raise InvalidInput(f"bad version key {version!r}: expected v<N> like v3")
    # bool is an int subclass, but True as a weight is almost certainly a mistake.
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise InvalidInput(f"{unit} for {version} must be a number, not {type(weight).__name__}")
    value = float(weight)
    if math.isnan(value):
        raise InvalidInput(f"{unit} for {version} is NaN")
    if math.isinf(value):
        raise InvalidInput(f"{unit} for {version} is infinite")
    if value < 0:
        raise InvalidInput(f"{unit} for {version} is negative ({value:g})")
    return value


def _ordered(checked: dict[str, float], total: float) -> dict[str, float]:
    """Normalised copy in ascending version-number order."""
    return {v: checked[v] / total for v in sorted(checked, key=lambda v: int(v[1:]))}


def validate_traffic(traffic: Mapping[str, float], *, tolerance: float = 1e-6) -> dict[str, float]:
    """Check a traffic map of fractions and return it normalised (summing exactly to 1).

    Keys are version ids ("v3"); weights are finite, non-negative and sum to 1 within
    `tolerance`, with at least one above zero. Zero-weight versions are kept (a deployed but
    idle version); the result is ordered by version number ascending.
    """
    if not traffic:
        raise InvalidInput("traffic is empty: expected weights like {'v1': 0.95, 'v2': 0.05}")
    checked = {v: _check_weight(v, w, "weight") for v, w in traffic.items()}
    total = math.fsum(checked.values())
    if total == 0:
        raise InvalidInput("all weights are zero: at least one version must get traffic")
    if abs(total - 1.0) > tolerance:
        raise InvalidInput(f"weights sum to {total:.10g}, not 1")
    return _ordered(checked, total)


def percent_to_fractions(traffic_percent: Mapping[str, float]) -> dict[str, float]:
    """Turn percentages ({"v1": 95, "v2": 5}, summing to 100) into validated fractions."""
    if not traffic_percent:
        raise InvalidInput("traffic is empty: expected percentages like {'v1': 95, 'v2': 5}")
    checked = {v: _check_weight(v, p, "percentage") for v, p in traffic_percent.items()}
    total = math.fsum(checked.values())
    if total == 0:
        raise InvalidInput("all percentages are zero: at least one version must get traffic")
    if abs(total - 100.0) > 1e-6 * 100:
        raise InvalidInput(f"percentages sum to {total:.10g}, not 100")
    return _ordered(checked, total)


def describe(traffic: Mapping[str, float]) -> str:
    """A one-line summary of a fraction map, e.g. "v1 95% · v2 5%" (in version order)."""
    parts: list[str] = []
    for version, weight in validate_traffic(traffic).items():
        pct = f"{weight * 100:.2f}".rstrip("0").rstrip(".")
        parts.append(f"{version} {pct}%")
    return " · ".join(parts)
