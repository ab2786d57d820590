"""`FeatureStore`: entities and versioned feature views in the same DuckDB store as
everything else — apply definitions, ingest rows, materialize for serving, and retrieve
point-in-time-correct training sets. Every change is audited in its own transaction.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from core import audit
from core.clock import as_utc, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.features import definitions as defs
from core.features import ingest, offline, online, training
from core.features import refs as refs_
from core.features.definitions import EntitySpec, ViewSpec
from core.features.plan import apply_plan, check_source_file, entity_spec
from core.features.training import TrainingSet
from core.features.types import (
    ApplyResult,
    Entity,
    FeatureCatalog,
    FeatureView,
    IngestResult,
    MaterializeResult,
    OnlineFeatures,
    ViewVersion,
)
from core.jsonable import canonical_json
from storage.conn import Conn
from storage.repos import features as repo
from storage.store import Store


@dataclass(frozen=True)
class _Current:
    """A view as it is now: its definition, version, entity and state."""

    spec: ViewSpec
    version: int
    entity: EntitySpec
    row: dict[str, Any]


class FeatureStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._cache: dict[str, _Current] | None = None
        self._generation = 0
        """Bumped by every change: a read that overlapped one is not cached."""

    # --- definitions --------------------------------------------------------------------

    def apply(self, path: str | Path, *, actor: str, dry_run: bool = False) -> ApplyResult:
        """Create or update the entities and views a definitions file declares, all or none.

        An incompatible change (see `definitions.compare_view`) refuses the whole file with
        every reason; views and entities the file does not name are left as they are."""
        found = defs.load(path)
        for view in found.views.values():
            if not view.from_store:
                check_source_file(view, self._entity_for(view, found))
        with self.store.read() as conn:
            plan, problems = apply_plan(conn, found)
        if not problems and not dry_run and any(c.action != "unchanged" for c, _ in plan):
            now = utcnow()
            with self.store.write() as conn:
                plan, problems = apply_plan(conn, found)  # again, under the write lock
                if not problems:
                    for change, write in plan:
                        if write is not None and change.action != "unchanged":
                            write(conn, now, actor)
            self._invalidate()
        if problems:
            raise Conflict("refused, nothing was applied: " + "; ".join(problems), detail=problems)
        return ApplyResult(str(found.source), dry_run, [c for c, _ in plan])

    def _entity_for(self, view: ViewSpec, found: defs.Definitions) -> EntitySpec:
        if view.entity in found.entities:
            return found.entities[view.entity]
        with self.store.read() as conn:
            row = repo.get_entity(conn, view.entity)
        if row is None:
            raise InvalidInput(
                f"view {view.name}: entity {view.entity!r} is not declared (in this file or the"
                " store)"
            )
        return entity_spec(row)

    # --- reading ------------------------------------------------------------------------

    def catalog(self) -> FeatureCatalog:
        """Every entity and feature view, with its state."""
        with self.store.read() as conn:
            entities = [_entity(r) for r in repo.list_entities(conn)]
        return FeatureCatalog(entities, [self._domain(c) for c in self._current().values()])

    def view(self, name: str, *, version: int | None = None) -> FeatureView:
        """The view as it is now (or as `version` defined it), with its version history."""
        current = self._get(name)
        with self.store.read() as conn:
            rows = repo.view_versions(conn, name)
        out = self._domain(current)
        if version is not None:
            row = next((r for r in rows if int(r["version"]) == version), None)
            if row is None:
                raise NotFound(f"view {name} has no version {version} (latest: {current.version})")
            spec = ViewSpec.from_json(name, json.loads(row["definition"]))
            out = self._domain(replace(current, spec=spec, version=version))
            out.applied_at, out.applied_by = as_utc(row["applied_at"]), row["applied_by"]
        out.history = [
            ViewVersion(int(r["version"]), as_utc(r["applied_at"]), r["applied_by"],
                        json.loads(r["changes"]))
            for r in rows
        ]  # fmt: skip
        return out

    def key_types(self, features: Sequence[str]) -> dict[str, str]:
        """The join keys (and their value types) of the views these references read."""
        current = self._current()
        found = refs_.parse(features, {n: c.spec for n, c in current.items()})
        return {current[r.view].entity.join_key: current[r.view].entity.value_type for r in found}

    # --- offline store ------------------------------------------------------------------

    def ingest(self, view: str, path: str | Path, *, actor: str) -> IngestResult:
        """Append a file's rows to a view kept in the store: every row checked first (bad
        ones named by line), then all of them in one transaction, or none."""
        current = self._get(view)
        if not current.spec.from_store:
            raise Conflict(
                f"view {view} reads its rows from file {current.spec.source}: change that file"
                ' (a view must have source = "store" to ingest into it)'
            )
        path = Path(path)
        frame = ingest.to_offline(
            current.spec, current.entity.join_key, current.entity.value_type, path
        )
        if frame.is_empty():
            raise InvalidInput(f"{path} has no rows")
        now = utcnow()
        frame = frame.with_columns(
            pl.lit(now.replace(tzinfo=None), pl.Datetime("us")).alias("_ingested_at")
        )
        with self.store.write() as conn:
            latest = self._latest_row(conn, view)
            if int(latest["version"]) != current.version:
                raise Conflict(f"view {view} changed while the file was read: ingest again")
            ties = repo.append_offline(conn, view, frame)
            total = int(latest["offline_rows"]) + frame.height
            repo.update_state(conn, view, offline_rows=total, last_ingest_at=now,
                              has_ties=bool(latest["has_ties"]) or ties)  # fmt: skip
            audit.append(
                conn, actor=actor, action="features.ingest", target=f"{view}:v{current.version}",
                after={"rows": frame.height, "file": str(path), "offline_rows": total},
            )  # fmt: skip
        self._invalidate()
        return IngestResult(view, current.version, frame.height, str(path), total, now)

    def historical(
        self, entities: pl.DataFrame, features: Sequence[str], *, timestamp: str
    ) -> pl.DataFrame:
        """`get_historical_features`: each entity row with the requested features as they
        were at its `timestamp` (never later; null past a view's TTL)."""
        frame, _, _ = self.historical_with_versions(entities, features, timestamp=timestamp)
        return frame

    def historical_with_versions(
        self, entities: pl.DataFrame, features: Sequence[str], *, timestamp: str
    ) -> tuple[pl.DataFrame, dict[str, int], list[tuple[str, str]]]:
        """`historical`, the version of each view it read and the (view, feature) pairs it
        joined, `view:*` spelled out (for lineage: what this very join read)."""
        current = self._current()
        wanted = refs_.parse(features, {n: c.spec for n, c in current.items()})
        grouped = refs_.by_view(wanted)
        keys = {current[v].entity.join_key: current[v].entity.value_type for v in grouped}
        frame = offline.entity_frame(entities, timestamp, keys, [r.feature for r in wanted])
        reads = [
            offline.ViewRead(self._source(current[v]), current[v].entity.join_key,
                             tuple(names), current[v].spec.ttl_s)
            for v, names in grouped.items()
        ]  # fmt: skip
        with self.store.read() as conn:
            found = offline.historical(conn, frame, timestamp, reads)
        ordered = [c for c in entities.columns] + [r.feature for r in wanted]
        versions = {v: current[v].version for v in grouped}
        return found.select(ordered), versions, [(r.view, r.feature) for r in wanted]

    def training_set(
        self, entities: Path, features: Sequence[str], *, timestamp: str, target: str
    ) -> TrainingSet:
        """An entity file joined point-in-time with `features`, as Parquet with its lineage."""
        return training.build(self, entities, features, timestamp=timestamp, target=target)

    def record_lineage(
        self, conn: Conn, job_id: str, lineage: Mapping[str, Any], at: datetime
    ) -> None:
        """Which views (and versions) a training job read; inside the job's transaction."""
        repo.insert_lineage(conn, {
            "job_id": job_id, "entities": lineage["entities"],
            "entities_sha256": lineage["entities_sha256"], "timestamp_column": lineage["timestamp"],
            "features": canonical_json(lineage["features"]), "views": canonical_json(lineage["views"]),
            "rows": lineage["rows"], "created_at": at,
        })  # fmt: skip

    # --- online store -------------------------------------------------------------------

    def materialize(
        self, view: str, *, up_to: datetime | None = None, actor: str
    ) -> MaterializeResult:
        """Keep the latest value per entity as of `up_to` (default: now) for serving."""
        current = self._get(view)
        now = utcnow()
        up_to = as_utc(up_to) if up_to is not None else now
        ttl_us = None if current.spec.ttl_s is None else round(current.spec.ttl_s * 1_000_000)
        names = [f.name for f in current.spec.features]
        source = self._source(current)  # a file source is read and checked before the query
        with self.store.read() as conn:  # the heavy part, outside the write lock
            rows = repo.latest_rows(conn, source, names, up_to, ttl_us)
        with self.store.write() as conn:
            latest = self._latest_row(conn, view)
            if int(latest["version"]) != current.version:
                raise Conflict(f"view {view} changed while it was materialized: run it again")
            repo.replace_online(conn, view, rows)
            repo.update_state(conn, view, materialized_up_to=up_to, materialized_at=now,
                              online_entities=rows.height)  # fmt: skip
            audit.append(
                conn, actor=actor, action="features.materialize",
                target=f"{view}:v{current.version}",
                before={"up_to": latest["materialized_up_to"], "entities": latest["online_entities"]},
                after={"up_to": up_to, "entities": rows.height},
            )  # fmt: skip
        self._invalidate()
        return MaterializeResult(view, current.version, up_to, rows.height, now)

    def online(
        self,
        features: Sequence[str],
        entities: Sequence[Mapping[str, Any]],
        *,
        labels: Sequence[str] | None = None,
    ) -> OnlineFeatures:
        """`get_online_features`: the materialized values of these entities (`labels` name
        them in errors)."""
        if not isinstance(entities, list | tuple) or not entities:
            raise InvalidInput('name at least one entity, e.g. [{"customer_id": "c-42"}]')
        current = self._current()
        wanted = refs_.parse(features, {n: c.spec for n, c in current.items()})
        reads = [
            online.OnlineRead(v, current[v].entity.join_key, current[v].entity.value_type,
                              tuple(names))
            for v, names in refs_.by_view(wanted).items()
        ]  # fmt: skip
        with self.store.read() as conn:
            found = online.lookup(conn, reads, entities, labels)
        order = [r.feature for r in wanted]
        keys = [k for k in found.rows[0] if k not in order] if found.rows else []
        return OnlineFeatures(order, [{k: row[k] for k in [*keys, *order]} for row in found.rows])

    # --- helpers ------------------------------------------------------------------------

    def _current(self) -> dict[str, _Current]:
        with self._lock:
            if self._cache is not None:
                return self._cache
            generation = self._generation
        with self.store.read() as conn:
            entities = {r["name"]: entity_spec(r) for r in repo.list_entities(conn)}
            rows = repo.latest_views(conn)
        current: dict[str, _Current] = {}
        for row in rows:
            spec = ViewSpec.from_json(row["name"], json.loads(row["definition"]))
            current[spec.name] = _Current(spec, int(row["version"]), entities[spec.entity], row)
        with self._lock:
            if generation == self._generation:
                self._cache = current
        return current

    def _invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._cache = None

    def _get(self, name: str) -> _Current:
        current = self._current()
        if name not in current:
            known = ", ".join(sorted(current)) or "none yet: mlc features apply FILE.toml"
            raise NotFound(f"no feature view {name!r} (views: {known})")
        return current[name]

    def _latest_row(self, conn: Conn, name: str) -> dict[str, Any]:
        row = repo.latest_view(conn, name)
        if row is None:
            raise NotFound(f"no feature view {name!r}")
        return row

    def _source(self, current: _Current) -> repo.Source:
        if current.spec.from_store:
            return repo.Source(current.spec.name, ties=bool(current.row["has_ties"]))
        frame = ingest.to_offline(
            current.spec, current.entity.join_key, current.entity.value_type,
            Path(current.spec.source), strict=False,
        )  # fmt: skip
        frame = frame.with_columns(pl.lit(None, pl.Datetime("us")).alias("_ingested_at"))
        return repo.Source(current.spec.name, frame=frame, ties=True)

    def _domain(self, current: _Current) -> FeatureView:
        spec, row = current.spec, current.row

        def t(value: Any) -> datetime | None:
            return None if value is None else as_utc(value)

        return FeatureView(
            name=spec.name, version=current.version, entity=spec.entity,
            join_key=current.entity.join_key, value_type=current.entity.value_type,
            source=spec.source, timestamp=spec.timestamp,
            created_timestamp=spec.created_timestamp, ttl_s=spec.ttl_s,
            features=list(spec.features), description=spec.description,
            applied_at=t(row["applied_at"]), applied_by=row["applied_by"],
            offline_rows=int(row["offline_rows"]) if spec.from_store else None,
            last_ingest_at=t(row["last_ingest_at"]),
            materialized_up_to=t(row["materialized_up_to"]),
            materialized_at=t(row["materialized_at"]),
            online_entities=int(row["online_entities"]),
        )  # fmt: skip


def _entity(row: dict[str, Any]) -> Entity:
    return Entity(row["name"], row["join_key"], row["value_type"], row["description"],
                  as_utc(row["created_at"]), as_utc(row["updated_at"]))  # fmt: skip
