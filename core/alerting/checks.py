"""Validation of what people type into an alert rule: metric, comparison, threshold,
durations, severity and channels. Every refusal is one `InvalidInput` line."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

from core.domain import ComparisonOperator, Severity
from core.errors import InvalidInput

METRICS: tuple[str, ...] = (
    "error_rate",
    "invalid_rate",
    "invalid_requests",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "requests",
    "prediction_mean",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "mae",
    "rmse",
    "drift_share",
    "concept_drift",
)
"""Plain metric names; besides these: `drift.<feature>`, `psi.<feature>`, `event.<kind>`."""

FEATURE_PREFIXES: tuple[str, ...] = ("drift.", "psi.")
EVENT_PREFIX = "event."

_FEATURE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_EVENT_KIND = re.compile(r"^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$")
CHANNEL_KINDS = ("console", "log", "webhook", "slack")
_MAX_DURATION_S = 366 * 24 * 3600


def metric(name: str) -> str:
    # Checked although typed: callers outside the type checker may pass anything.
    if not isinstance(cast(object, name), str) or not name:
        raise InvalidInput("metric must be a non-empty name, e.g. error_rate")
    if name in METRICS:
        return name
    for prefix in FEATURE_PREFIXES:
        if name.startswith(prefix):
            feature = name[len(prefix) :]
            if not _FEATURE.match(feature):
                raise InvalidInput(
                    f"invalid feature in metric {name!r}: use {prefix}<feature column name>"
                )
            return name
    if name.startswith(EVENT_PREFIX):
        if not _EVENT_KIND.match(name[len(EVENT_PREFIX) :]):
            raise InvalidInput(f"invalid event kind in metric {name!r}: e.g. event.rollout.aborted")
        return name
    raise InvalidInput(
        f"unknown metric {name!r}: use one of {', '.join(METRICS)},"
        " drift.<feature>, psi.<feature> or event.<kind>"
    )


def comparison(op: str | ComparisonOperator) -> ComparisonOperator:
    try:
        return ComparisonOperator(op)
    except ValueError:
        raise InvalidInput(f"unknown comparison {op!r}: use one of > >= < <= == !=") from None


def threshold(value: float | int | str) -> float:
    if isinstance(value, bool):
        raise InvalidInput(f"threshold must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"threshold must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise InvalidInput(f"threshold must be a finite number, not {value!r}")
    return number


def duration(value: float | int, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(cast(object, value), int | float):
        raise InvalidInput(f"{name} must be a whole number of seconds, not {value!r}")
    if not math.isfinite(value) or value != int(value):
        raise InvalidInput(f"{name} must be a whole number of seconds, not {value!r}")
    seconds = int(value)
    if seconds < minimum or seconds > _MAX_DURATION_S:
        raise InvalidInput(
            f"{name} must be between {minimum} and {_MAX_DURATION_S} seconds, not {seconds}"
        )
    return seconds


def severity(value: str | Severity) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise InvalidInput(f"unknown severity {value!r}: use info, warning or critical") from None


def channel(spec: str) -> str:
    """Check one channel and return its normal form (a log path made absolute)."""
    if not isinstance(cast(object, spec), str) or not spec.strip():
        raise InvalidInput("a channel must be console, log:<path>, webhook:<url> or slack:<url>")
    spec = spec.strip()
    if spec == "console":
        return spec
    kind, sep, target = spec.partition(":")
    if not sep or kind not in CHANNEL_KINDS or kind == "console":
        raise InvalidInput(
            f"unknown channel {spec!r}: use console, log:<path>, webhook:<url> or slack:<url>"
        )
    if not target:
        raise InvalidInput(f"channel {spec!r} needs a {'path' if kind == 'log' else 'URL'}")
    if kind == "log":
        path = Path(target).expanduser()
        if path.exists() and path.is_dir():
            raise InvalidInput(f"log channel {target!r} is a directory: name a file")
        return f"log:{path.resolve()}"
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"channel {spec!r} needs an http(s) URL, e.g. {kind}:https://host/path")
    return f"{kind}:{target}"


def channels(specs: list[str] | tuple[str, ...] | str) -> list[str]:
    if isinstance(specs, str):
        specs = [specs]  # one channel: URLs may contain commas, so never split
    if not specs:
        raise InvalidInput("a rule needs at least one channel, e.g. console")
    out: list[str] = []
    for spec in specs:
        normal = channel(spec)
        if normal not in out:
            out.append(normal)
    return out
