"""Feature definitions: parsing `features.toml` strictly, and what a re-apply may change.

```toml
[entities.customer]
join_key = "customer_id"      # the key column in sources and entity frames
value_type = "string"         # or "int"

[views.customer_profile]
entity = "customer"
source = "store"              # rows appended by `mlc features ingest`; or { path = "x.parquet" }
timestamp = "as_of"           # event time: when the values became true
created_timestamp = "written_at"   # optional tie-break among rows of equal event time
ttl = "365d"                  # optional: older values are not served
features = { age = "numeric", home_ownership = "categorical", has_cosigner = "binary" }
```

A change is compatible when rows already stored, and models trained on the view, still mean
what they meant: adding features, a new TTL, a new description, renamed source columns or a
new source file. Changing a feature's type, removing a feature, moving the view to another
entity or between the store and a file, or changing an entity's key that views use, is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from core import names
from core.domain import Feature, FeatureType
from core.errors import InvalidInput
from core.inputs import read_toml
from core.timeparse import duration_text, parse_duration

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_FEATURE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
_FILES = (".parquet", ".pq", ".csv")
STORE = "store"
VALUE_TYPES = ("string", "int")
FEATURE_TYPES = (FeatureType.NUMERIC, FeatureType.CATEGORICAL, FeatureType.BINARY)

_ENTITY_KEYS = {"join_key", "value_type", "description"}
_VIEW_KEYS = {
    "entity",
    "source",
    "timestamp",
    "created_timestamp",
    "ttl",
    "features",
    "description",
}


@dataclass(frozen=True)
class EntitySpec:
    name: str
    join_key: str
    value_type: str = "string"
    description: str = ""


@dataclass(frozen=True)
class ViewSpec:
    name: str
    entity: str
    source: str
    """`store`, or the absolute path of a CSV/Parquet file."""
    timestamp: str
    created_timestamp: str | None
    ttl_s: float | None
    features: tuple[Feature, ...]
    description: str = ""

    @property
    def from_store(self) -> bool:
        return self.source == STORE

    def to_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "source": self.source,
            "timestamp": self.timestamp,
            "created_timestamp": self.created_timestamp,
            "ttl_s": self.ttl_s,
            "features": [{"name": f.name, "type": f.type.value} for f in self.features],
            "description": self.description,
        }

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> ViewSpec:
        return cls(
            name=name,
            entity=data["entity"],
            source=data["source"],
            timestamp=data["timestamp"],
            created_timestamp=data.get("created_timestamp"),
            ttl_s=data.get("ttl_s"),
            features=tuple(Feature(f["name"], FeatureType(f["type"])) for f in data["features"]),
            description=data.get("description", ""),
        )


@dataclass(frozen=True)
class Definitions:
    source: Path
    entities: dict[str, EntitySpec]
    views: dict[str, ViewSpec]


def name(value: object, what: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInput(
            f"invalid {what} name {value!r}: use lowercase letters, digits and '_', starting"
            " with a letter (at most 63 characters), e.g. customer_profile"
        )
    return value


def feature_name(value: object) -> str:
    if not isinstance(value, str) or not _FEATURE.match(value):
        raise InvalidInput(
            f"invalid feature name {value!r}: use letters, digits and '_', starting with a letter"
        )
    return value


def load(path: str | Path) -> Definitions:
    path = Path(path)
    raw = read_toml(path, "feature definitions file")
    return parse(raw, base_dir=path.resolve().parent, source=path)


def parse(raw: dict[str, Any], *, base_dir: Path, source: Path) -> Definitions:
    where = str(source)
    unknown = set(raw) - {"entities", "views"}
    if unknown:
        raise InvalidInput(
            f"{where}: unknown section [{sorted(unknown)[0]}]; expected [entities.NAME] and"
            " [views.NAME]"
        )
    entities: dict[str, EntitySpec] = {}
    for key, table in _tables(raw, "entities", where).items():
        entities[key] = _entity(key, table, where)
    views: dict[str, ViewSpec] = {}
    for key, table in _tables(raw, "views", where).items():
        views[key] = _view(key, table, where, base_dir)
    if not entities and not views:
        raise InvalidInput(f"{where}: declares no [entities.NAME] and no [views.NAME]")
    return Definitions(source=source, entities=entities, views=views)


def _tables(raw: dict[str, Any], section: str, where: str) -> dict[str, dict[str, Any]]:
    value: object = raw.get(section, {})
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: [{section}] must hold tables, e.g. [{section}.NAME]")
    tables = cast("dict[str, object]", value)  # a TOML table's keys are strings
    if not all(isinstance(v, dict) for v in tables.values()):
        raise InvalidInput(f"{where}: [{section}] must hold tables, e.g. [{section}.NAME]")
    return cast("dict[str, dict[str, Any]]", tables)


def _unknown(table: dict[str, Any], allowed: set[str], what: str, where: str) -> None:
    extra = set(table) - allowed
    if extra:
        raise InvalidInput(
            f"{where}: unknown key {sorted(extra)[0]!r} in {what}; it takes"
            f" {', '.join(sorted(allowed))}"
        )


def _text(table: dict[str, Any], key: str, what: str, where: str, *, required: bool) -> str | None:
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInput(f'{where}: {what} needs {key} = "..." (a non-empty string)')
    return value


def _entity(key: str, table: dict[str, Any], where: str) -> EntitySpec:
    what = f"[entities.{key}]"
    name(key, "entity")
    _unknown(table, _ENTITY_KEYS, what, where)
    join_key = _text(table, "join_key", what, where, required=True)
    assert join_key is not None
    feature_name(join_key)
    value_type = _text(table, "value_type", what, where, required=False) or "string"
    if value_type not in VALUE_TYPES:
        raise InvalidInput(f"{where}: {what} value_type must be string or int, not {value_type!r}")
    return EntitySpec(key, join_key, value_type, _text(table, "description", what, where,
                                                      required=False) or "")  # fmt: skip


def _view(key: str, table: dict[str, Any], where: str, base_dir: Path) -> ViewSpec:
    what = f"[views.{key}]"
    name(key, "view")
    _unknown(table, _VIEW_KEYS, what, where)
    entity = _text(table, "entity", what, where, required=True)
    assert entity is not None
    timestamp = _text(table, "timestamp", what, where, required=True)
    assert timestamp is not None
    names.column(timestamp, "timestamp")
    created = _text(table, "created_timestamp", what, where, required=False)
    if created is not None:
        names.column(created, "created_timestamp")
        if created == timestamp:
            raise InvalidInput(f"{where}: {what} created_timestamp must differ from timestamp")
    features = _features(table.get("features"), what, where)
    for reserved in (timestamp, created):
        if reserved is not None and any(f.name == reserved for f in features):
            raise InvalidInput(f"{where}: {what} {reserved!r} is a timestamp, not a feature")
    return ViewSpec(
        name=key,
        entity=entity,
        source=_source(table.get("source", STORE), what, where, base_dir),
        timestamp=timestamp,
        created_timestamp=created,
        ttl_s=_ttl(table.get("ttl"), what, where),
        features=features,
        description=_text(table, "description", what, where, required=False) or "",
    )


def _source(value: object, what: str, where: str, base_dir: Path) -> str:
    if value == STORE:
        return STORE
    table = cast("dict[str, object]", value) if isinstance(value, dict) else {}
    file = table.get("path")
    if set(table) == {"path"} and isinstance(file, str):
        path = Path(file)
        path = path if path.is_absolute() else base_dir / path
        if path.suffix.lower() not in _FILES:
            raise InvalidInput(f"{where}: {what} source file {path} must be .parquet or .csv")
        return str(path.resolve())
    raise InvalidInput(
        f'{where}: {what} source must be "store" (rows ingested with mlc features ingest)'
        ' or { path = "file.parquet" } (a CSV/Parquet file read in place)'
    )


def _ttl(value: Any, what: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        seconds = parse_duration(value).total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise InvalidInput(f'{where}: {what} ttl must be a duration such as "30d" or seconds')
    if seconds <= 0:
        raise InvalidInput(f"{where}: {what} ttl must be positive (leave it out for no limit)")
    return seconds


def _features(value: object, what: str, where: str) -> tuple[Feature, ...]:
    if not isinstance(value, dict) or not value:
        raise InvalidInput(
            f'{where}: {what} needs features = {{ name = "numeric" | "categorical" | "binary" }}'
        )
    out: list[Feature] = []
    for key, kind in cast("dict[str, object]", value).items():  # TOML keys are strings
        feature_name(key)
        if not isinstance(kind, str):
            raise InvalidInput(f"{where}: {what} feature {key!r} needs a type name")
        ftype = names.feature_type(kind)
        if ftype not in FEATURE_TYPES:
            raise InvalidInput(
                f"{where}: {what} feature {key!r} is {ftype.value}; a feature view holds"
                " numeric, categorical or binary features"
            )
        out.append(Feature(key, ftype))
    if len({f.name.lower() for f in out}) != len(out):
        raise InvalidInput(f"{where}: {what} lists a feature twice (names ignore case)")
    return tuple(out)


# --- what a re-apply may change ---------------------------------------------------------


def compare_entity(
    old: EntitySpec, new: EntitySpec, used_by: list[str]
) -> tuple[list[str], list[str]]:
    """(changes, problems) of redefining an entity that `used_by` views are keyed by."""
    changes: list[str] = []
    problems: list[str] = []
    for field_, label in (("join_key", "join key"), ("value_type", "key type")):
        before, after = getattr(old, field_), getattr(new, field_)
        if before == after:
            continue
        changes.append(f"{label} {before} → {after}")
        if used_by:
            problems.append(
                f"entity {old.name}: changing its {label} from {before} to {after} is"
                f" incompatible: view(s) {', '.join(used_by)} hold rows keyed by {old.join_key}"
                " as it is; declare a new entity instead"
            )
    if old.description != new.description:
        changes.append("description")
    return changes, problems


def compare_view(old: ViewSpec, new: ViewSpec) -> tuple[list[str], list[str]]:
    """(changes, problems) of re-applying view `old` as `new`."""
    changes: list[str] = []
    problems: list[str] = []
    v = new.name

    def refuse(what: str, why: str) -> None:
        problems.append(f"view {v}: {what} is incompatible ({why}); declare a new view instead")

    if old.entity != new.entity:
        refuse(f"changing its entity from {old.entity} to {new.entity}",
               f"its rows and the models trained on it are keyed by {old.entity}")  # fmt: skip
    if old.from_store != new.from_store:
        refuse(
            f"moving its source from {_where(old.source)} to {_where(new.source)}",
            "the rows already there would no longer be read",
        )
    elif old.source != new.source:
        changes.append(f"source {old.source} → {new.source}")
    for label, before, after in (
        ("timestamp column", old.timestamp, new.timestamp),
        ("created_timestamp column", old.created_timestamp, new.created_timestamp),
    ):
        if before != after:
            changes.append(f"{label} {before or 'none'} → {after or 'none'}")
    if old.ttl_s != new.ttl_s:
        changes.append(f"ttl {duration_text(old.ttl_s)} → {duration_text(new.ttl_s)}")
    before_types = {f.name: f.type for f in old.features}
    after_types = {f.name: f.type for f in new.features}
    for feature, kind in before_types.items():
        if feature not in after_types:
            refuse(f"removing feature {feature}",
                   f"models trained on {v}:{feature} would lose it")  # fmt: skip
        elif after_types[feature] is not kind:
            refuse(
                f"changing feature {feature} from {kind.value} to {after_types[feature].value}",
                f"stored values and models trained on {v}:{feature} read it as {kind.value}",
            )
    for feature, kind in after_types.items():
        if feature not in before_types:
            clash = next((n for n in before_types if n.lower() == feature.lower()), None)
            if clash is not None:
                refuse(f"adding feature {feature}", f"it differs from {clash} only in case")
            else:
                changes.append(f"added feature {feature} ({kind.value})")
    if not problems and [f.name for f in old.features if f.name in after_types] != [
        f.name for f in new.features if f.name in before_types
    ]:
        changes.append("feature order")
    if old.description != new.description:
        changes.append("description")
    return changes, problems


def _where(source: str) -> str:
    return "the store" if source == STORE else f"file {source}"
