"""Turn domain objects into JSON-ready values (for `--json`, the API and audit records)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, cast


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in cast("dict[object, object]", value).items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in cast("Iterable[object]", value)]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    item = getattr(value, "item", None)
    if callable(item):  # numpy scalars
        return to_jsonable(item())
    return value


def canonical_json(value: Any) -> str:
    """Deterministic text for hashing: sorted keys, no whitespace."""
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def loads_or_none(text: str | None) -> Any:
    return None if text is None else json.loads(text)
