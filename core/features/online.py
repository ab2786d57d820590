"""The online store: the latest value per entity, for serving, and the prediction
endpoint's lookup of an entity's features.

`materialize(view, up_to)` keeps, per entity, the newest row at or before `up_to` that is
within the view's TTL of it — the same rule the point-in-time join applies at a label's
time, so a model is served the values it would have been trained on. A lookup answers from
what was last materialized; an entity without a value there gets nulls (the pipelines impute
them), as in Feast.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from core.errors import InvalidInput
from core.features.types import OnlineFeatures
from storage.conn import Conn
from storage.repos import features as repo

if TYPE_CHECKING:
    from core.features.service import FeatureStore
    from core.registry import ModelRegistry


@dataclass(frozen=True)
class OnlineRead:
    view: str
    join_key: str
    value_type: str
    features: tuple[str, ...]


def key_text(value: Any, value_type: str, where: str) -> str:
    """An entity key as the online store holds it: text, `42` for an int key."""
    if isinstance(value, bool) or value is None:
        raise InvalidInput(f"{where} must be a {'n integer' if value_type == 'int' else ' string'}")
    if value_type == "int":
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return str(int(value.strip()))
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        raise InvalidInput(f"{where} must be an integer, got {value!r}")
    if not isinstance(value, str | int) or str(value) == "":
        raise InvalidInput(f"{where} must be a non-empty string, got {value!r}")
    return str(value)


def lookup(
    conn: Conn,
    reads: Sequence[OnlineRead],
    entities: Sequence[object],
    labels: Sequence[str] | None = None,
) -> OnlineFeatures:
    """Per entity row (a mapping of join key → value; anything else is refused), the
    requested features. `labels` name the rows in errors (default `entity <i>`)."""
    keys_needed = {r.join_key: r for r in reads}  # views sharing a key check it once
    texts: list[dict[str, str]] = []
    checked: list[Mapping[str, Any]] = []
    for i, item in enumerate(entities):
        label = labels[i] if labels is not None else f"entity {i}"
        if not isinstance(item, Mapping):
            example = next(iter(keys_needed))
            raise InvalidInput(
                f'{label}: expected an object of key → value, e.g. {{"{example}": 42}}'
            )
        row = cast("Mapping[str, Any]", item)  # JSON objects and TOML tables have string keys
        checked.append(row)
        texts.append({})
        for key, read in keys_needed.items():
            if key not in row:
                raise InvalidInput(f"{label} lacks {key} (view {read.view} is keyed by it)")
            texts[i][key] = key_text(row[key], read.value_type, f"{label} {key}")
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for read in reads:
        wanted = sorted({t[read.join_key] for t in texts})
        found[read.view] = {
            r["entity_key"]: json.loads(r["features"])
            for r in repo.online_rows(conn, read.view, wanted)
        }
    rows: list[dict[str, Any]] = []
    for i, row in enumerate(checked):
        out: dict[str, Any] = {k: row[k] for k in keys_needed}
        for read in reads:
            values = found[read.view].get(texts[i][read.join_key], {})
            for feature in read.features:
                out[feature] = values.get(feature)
        rows.append(out)
    return OnlineFeatures(features=[f for r in reads for f in r.features], rows=rows)


class EntityFeatures:
    """The prediction endpoint's hook: a request that names an `entity` gets that entity's
    online features — those the serving versions were trained on from the store — and its
    own `features` win over them.

    `entity` is an object of join key → value (`{"customer_id": "c-42"}`), or just the value
    when the versions' views share one join key."""

    def __init__(self, features: FeatureStore, registry: ModelRegistry) -> None:
        self.features = features
        self.registry = registry
        self._refs: dict[tuple[str, str], tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def enrich(self, model: str, versions: Iterable[str], requests: Sequence[Any]) -> Sequence[Any]:
        """`requests` with fetched features merged in; unchanged when none names an entity."""
        asking = [
            i for i, item in enumerate(requests) if isinstance(item, dict) and "entity" in item
        ]
        if not asking:
            return requests
        refs = list(dict.fromkeys(r for v in versions for r in self._refs_of(model, v)))
        if not refs:
            raise InvalidInput(
                f"{model}'s serving versions were not trained from the feature store:"
                " send their features instead of an entity"
            )
        keys: dict[str, str] | None = None  # only a bare id needs to know the key's name
        entities: list[dict[str, Any]] = []
        for i in asking:
            raw: object = requests[i]["entity"]
            if isinstance(raw, dict):
                entity = cast("dict[str, Any]", raw)  # a JSON object: string keys
            else:
                keys = keys if keys is not None else self.features.key_types(refs)
                if len(keys) != 1:
                    raise InvalidInput(
                        f"item {i}: entity must name its keys, e.g. "
                        + json.dumps({k: "…" for k in keys}, ensure_ascii=False)
                    )
                entity = {next(iter(keys)): raw}
            entities.append(entity)
        found = self.features.online(refs, entities, labels=[f"item {i}: entity" for i in asking])
        out = list(requests)
        for i, values in zip(asking, found.rows, strict=True):
            explicit = requests[i].get("features")
            if explicit is not None and not isinstance(explicit, dict):
                raise InvalidInput(f"item {i}: features must be a JSON object")
            merged = {f: values[f] for f in found.features}
            out[i] = {**requests[i], "features": {**merged, **(explicit or {})}}
        return out

    def _refs_of(self, model: str, version: str) -> tuple[str, ...]:
        key = (model, version)
        with self._lock:
            hit = self._refs.get(key)
        if hit is None:  # versions are immutable: what one was trained on never changes
            trained: dict[str, Any] = (
                self.registry.get_version(model, version).training or {}
            ).get("feature_store") or {}
            hit = tuple(trained.get("features") or ())
            with self._lock:
                self._refs[key] = hit
        return hit
