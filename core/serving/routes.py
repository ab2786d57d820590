"""Where a model's requests in one environment go: the splitter of its current revision,
what answering them has cost lately (whether a server may answer on its event loop), and a
batch of requests checked and split among the versions that serve it (`route_requests`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from core.errors import InvalidInput
from core.events import fields as req
from core.serving.splitter import TrafficSplitter
from core.serving.versions import VersionMeta


class EntityLookup(Protocol):
    """Fills in the features of requests that name an `entity` (the feature store's online
    lookup, `core.features.online.EntityFeatures`, which the engine hands the service)."""

    def enrich(
        self, model: str, versions: Iterable[str], requests: Sequence[Any]
    ) -> Sequence[Any]: ...


@dataclass
class Route:
    revision: int
    splitter: TrafficSplitter
    known: frozenset[str] | None = None
    """Every feature some version of this map reads; filled on the first request."""
    lone_ms: float | None = None
    """What answering a lone request has cost lately (a moving average)."""
    item_ms: float | None = None
    """What answering a batch has cost lately, per item (a moving average)."""

    def note(self, items: int, took_ms: float) -> None:
        """Remember what answering `items` requests took, all models loaded."""
        if items == 1:
            self.lone_ms = _average(self.lone_ms, took_ms)
        else:
            self.item_ms = _average(self.item_ms, took_ms / items)

    def expected_ms(self, items: int) -> float | None:
        """What answering `items` requests should take, if known. For a batch this scales
        the recent cost per item, which spreads a batch's fixed cost (about a lone
        request's) over its items: a batch smaller than the usual is under-estimated by at
        most that fixed cost, a larger one over-estimated."""
        if items == 1:
            return self.lone_ms
        return None if self.item_ms is None else self.item_ms * items


def _average(last: float | None, now: float) -> float:
    return now if last is None else 0.8 * last + 0.2 * now


def route_requests(
    route: Route, requests: Sequence[Any], meta_of: Callable[[str], VersionMeta]
) -> tuple[list[tuple[VersionMeta, list[int], list[dict[str, Any]]]], list[str], list[str], bool]:
    """Client input checked for every item before any version works on it, so a refused
    request is the client's error and never a version's: (per version: its metadata,
    the items it serves and their checked features), request ids, units, and whether a
    client named ids (which then need deduplication)."""
    raw_ids: list[Any] = []
    for i, item in enumerate(requests):
        if not isinstance(item, dict):
            raise InvalidInput(f"item {i}: a request must be a JSON object")
        raw_ids.append(cast("dict[str, Any]", item).get("request_id"))
    fresh = req.new_ids(raw_ids.count(None))
    client_ids = len(fresh) < len(raw_ids)
    fresh_ids = iter(fresh)
    ids = [
        next(fresh_ids) if raw is None else req.request_id(raw, i, required=True)
        for i, raw in enumerate(raw_ids)
    ]
    units = [
        rid if (unit := item.get("unit_id")) is None else req.unit_id(unit, i)
        for i, (rid, item) in enumerate(zip(ids, requests, strict=True))
    ]
    assigned = route.splitter.assign_many(units)
    by_version: dict[str, list[int]] = {}
    for i, version in enumerate(assigned):
        by_version.setdefault(version, []).append(i)
    # Every version that may serve this model: a feature one of them reads is not unknown.
    if route.known is None:
        route.known = frozenset(name for v in route.splitter.traffic for name in meta_of(v).schema)
    known = route.known
    groups: list[tuple[VersionMeta, list[int], list[dict[str, Any]]]] = []
    for version, indices in by_version.items():
        meta = meta_of(version)
        checked = [
            req.check_features(requests[i].get("features"), meta.schema, i, known) for i in indices
        ]
        groups.append((meta, indices, checked))
    return groups, ids, units, client_ids
