"""Validation of what people type: model slugs, aliases, feature names, tags, version
references, reasons. One function per check, called by the engine itself (the registry, the
`LocalEngine` methods), so the CLI, the HTTP API and the console all meet the same rules and
messages. A check that tests the type takes any value (parsed JSON, a keyword argument) and
returns it typed."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from core.domain import Feature, FeatureType
from core.errors import InvalidInput

MAX_TAG_VALUE = 1024
MAX_REASON = 1000
"""Characters of a reason or a comment (they are stored in the audit log and shown in tables)."""

_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_TAG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]{0,127}$")
_VERSION = re.compile(r"^v?([1-9][0-9]{0,8})$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")

_TYPE_ALIASES = {
    "numeric": FeatureType.NUMERIC,
    "float": FeatureType.NUMERIC,
    "int": FeatureType.NUMERIC,
    "integer": FeatureType.NUMERIC,
    "number": FeatureType.NUMERIC,
    "categorical": FeatureType.CATEGORICAL,
    "category": FeatureType.CATEGORICAL,
    "string": FeatureType.CATEGORICAL,
    "str": FeatureType.CATEGORICAL,
    "binary": FeatureType.BINARY,
    "bool": FeatureType.BINARY,
    "boolean": FeatureType.BINARY,
    "datetime": FeatureType.DATETIME,
    "timestamp": FeatureType.DATETIME,
}


def model_name(name: object) -> str:
    if not isinstance(name, str) or not _SLUG.match(name) or len(name) > 63:
        raise InvalidInput(
            f"invalid model name {name!r}: use lowercase letters, digits and single hyphens,"
            " starting with a letter (at most 63 characters), e.g. credit-default"
        )
    return name


def alias(name: str) -> str:
    if not _ALIAS.match(name) or _VERSION.match(name):
        raise InvalidInput(
            f"invalid alias {name!r}: use lowercase letters, digits, '_' or '-', starting with"
            " a letter, and not shaped like a version (v3)"
        )
    return name


def tag(pair: str) -> tuple[str, str]:
    """Parse `KEY=VALUE`."""
    if "=" not in pair:
        raise InvalidInput(f"invalid tag {pair!r}: expected KEY=VALUE")
    key, value = pair.split("=", 1)
    return tag_pair(key.strip(), value)


def tag_pair(key: object, value: object) -> tuple[str, str]:
    """A tag's key (letters, digits, `_.-/`, at most 128) and value (at most 1024)."""
    if not isinstance(key, str) or not _TAG_KEY.match(key):
        raise InvalidInput(
            f"invalid tag key {key!r}: use letters, digits, '_', '.', '-' or '/', starting"
            " with a letter or '_' (at most 128 characters)"
        )
    if not isinstance(value, str):
        raise InvalidInput(f"tag value for {key!r} must be a string")
    if len(value) > MAX_TAG_VALUE:
        raise InvalidInput(
            f"tag value for {key!r} is {len(value):,} characters long; at most {MAX_TAG_VALUE:,}"
        )
    return key, value


def reason(text: object, what: str = "reason") -> str:
    """A reason or a comment: text of at most `MAX_REASON` characters."""
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be text")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"{what} is {len(text):,} characters long; at most {MAX_REASON:,}")
    return text


def version_number(ref: str) -> int | None:
    """`v3` or `3` → 3; anything else (an alias) → None."""
    m = _VERSION.match(ref.strip())
    return int(m.group(1)) if m else None


def column(name: object, what: str = "column") -> str:
    if not isinstance(name, str) or not _COLUMN.match(name):
        raise InvalidInput(
            f"invalid {what} name {name!r}: use letters, digits and '_', starting with a letter"
        )
    return name


def feature_type(name: str) -> FeatureType:
    try:
        return _TYPE_ALIASES[name.strip().lower()]
    except KeyError:
        raise InvalidInput(
            f"unknown feature type {name!r}: use numeric, categorical, binary or datetime"
        ) from None


def features_spec(spec: str) -> list[Feature]:
    """Parse `name:type,name:type`."""
    pairs: list[tuple[str, str]] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if ":" not in item:
            raise InvalidInput(f"invalid feature {item!r}: expected name:type, e.g. age:numeric")
        name, kind = (p.strip() for p in item.split(":", 1))
        pairs.append((name, kind))
    return features(pairs)


def features(items: Iterable[tuple[str, str | FeatureType] | Feature]) -> list[Feature]:
    """A model's features, `(name, type)` pairs or `Feature`s: each name a column name
    (letters, digits, '_'), none twice, each type known."""
    out: list[Feature] = []
    seen: set[str] = set()
    for item in items:
        name, kind = (item.name, item.type) if isinstance(item, Feature) else item
        column(name, "feature")
        if name in seen:
            raise InvalidInput(f"feature {name!r} is listed twice")
        seen.add(name)
        out.append(Feature(name, kind if isinstance(kind, FeatureType) else feature_type(kind)))
    return out


_C = TypeVar("_C", bound=type)
_TEXTS = ("reason", "comment")


def checks_reasons(cls: _C) -> _C:
    """Class decorator: each public method of `cls` that takes a `reason` or a `comment`
    checks it (`reason`) before it runs. On the engine, this is one check for every caller
    (CLI, HTTP API, console) and every operation, present and future, whichever base class
    of `cls` (a capability's `Local…` part of the engine) defines it."""
    for name in dir(cls):
        method = inspect.getattr_static(cls, name)
        if name.startswith("_") or not inspect.isfunction(method):
            continue
        parameters = list(inspect.signature(method).parameters)
        texts = {t: parameters.index(t) for t in _TEXTS if t in parameters}
        if texts:
            setattr(cls, name, _checking(method, texts))
    return cls


def _checking(method: Callable[..., Any], texts: dict[str, int]) -> Callable[..., Any]:
    @functools.wraps(method)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for text, at in texts.items():
            value = kwargs[text] if text in kwargs else args[at] if at < len(args) else None
            if value is not None:
                reason(value, text)
        return method(*args, **kwargs)

    return checked
