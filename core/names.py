"""Validation of the names people type: model slugs, aliases, tag keys, version references."""

from __future__ import annotations

import re

from core.domain import Feature, FeatureType
from core.errors import InvalidInput

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


def model_name(name: str) -> str:
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
    key = key.strip()
    if not _TAG_KEY.match(key):
        raise InvalidInput(
            f"invalid tag key {key!r}: use letters, digits, '_', '.', '-' or '/', starting"
            " with a letter or '_'"
        )
    if len(value) > 1024:
        raise InvalidInput(f"tag value for {key!r} is longer than 1024 characters")
    return key, value


def version_number(ref: str) -> int | None:
    """`v3` or `3` → 3; anything else (an alias) → None."""
    m = _VERSION.match(ref.strip())
    return int(m.group(1)) if m else None


def column(name: str, what: str = "column") -> str:
    if not _COLUMN.match(name):
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
    out: list[Feature] = []
    seen: set[str] = set()
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if ":" not in item:
            raise InvalidInput(f"invalid feature {item!r}: expected name:type, e.g. age:numeric")
        name, kind = (p.strip() for p in item.split(":", 1))
        column(name, "feature")
        if name in seen:
            raise InvalidInput(f"feature {name!r} is listed twice")
        seen.add(name)
        out.append(Feature(name, feature_type(kind)))
    return out
