"""What travels between `RemoteEngine` and the API, both ways: path segments, query values
and files named for the owner out; answers rebuilt as the engine's own result types back; and
the data plane's "not ready yet" answer.
"""

from __future__ import annotations

import builtins
import functools
import importlib
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from core.errors import MlcError
from core.fromjson import from_jsonable

_TYPES = {
    "core.domain": ("ABTest", "AlertRule", "ApiToken", "AuditHead", "AuditRecord", "AuditVerification",
                    "DeploymentRevision", "Model", "ModelVersion", "Rollout", "TrainingJob"),
    "core.deployments.owners": ("TrafficOwner",),
    "core.fleet": ("ModelHealth", "VersionsHealth"),
    "core.abtesting.results": ("TestResults",),
    "core.alerting.types": ("Alert", "Silence", "Transition"),
    "core.monitoring.drift_report": ("DriftReport",),
    "core.features.types": ("ApplyResult", "FeatureCatalog", "FeatureView", "IngestResult",
                            "MaterializeResult", "OnlineFeatures"),
    "core.monitoring.drift": ("ConceptDrift", "FeatureDistribution"),
    "core.monitoring.metrics": ("PerformanceMetrics",),
    "core.retrain": ("RetrainPolicy",),
    "core.training.pipeline": ("JobDetails",),
    "core.training.validator": ("ValidationResults",),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _TYPES.items() for name in names}


class _Types(dict[str, Any]):
    """Result types by name, each imported when first decoded: a client (the console of a
    running owner) must not pay scikit-learn's and scipy's import for the views it never opens."""

    def __missing__(self, name: str) -> Any:
        if name not in _MODULE_OF:
            return getattr(builtins, name)
        return getattr(importlib.import_module(_MODULE_OF[name]), name)


@functools.cache
def result_type(text: str) -> Any:
    # `text` is an operation's `returns`, a constant of the table: `list[AlertRule]`, `X | None`.
    return eval(text, {"__builtins__": {}}, _Types())


def quote_part(part: str) -> str:
    # Path segments come from people (`v3`, aliases, token names): never let one add a '/'.
    return quote(part, safe="")


def not_ready_retry(response: httpx.Response) -> float | None:
    """Seconds to wait when `response` says the owner is not ready yet, else None."""
    if response.status_code != 503 or "Retry-After" not in response.headers:
        return None
    try:
        if response.json().get("error") != "unavailable":
            return None  # overloaded: the caller decides whether to retry
        return max(0.1, float(response.headers["Retry-After"]))
    except (ValueError, AttributeError):
        return None


def detail(response: httpx.Response) -> str:
    try:
        return str(response.json()["detail"]).removesuffix("; retry shortly")
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def decode(cls: Any, data: Any) -> Any:
    try:
        return from_jsonable(cls, data)
    except (TypeError, ValueError) as e:
        raise MlcError(f"unexpected answer from the mlc server: {e}") from e


def server_path(path: str | Path) -> str:
    # The owner reads the file. A path that exists here is sent absolute, so a relative path
    # means the same on a server on this host (started elsewhere); else it names the server's.
    p = Path(path)
    return str(p.resolve()) if not p.is_absolute() and p.exists() else str(p)


def placeholders(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def query_value(value: Any) -> Any:
    """Times in ISO 8601; an audit head as `SEQ:HASH`."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value if value is None or isinstance(value, str | int | float) else str(value)
