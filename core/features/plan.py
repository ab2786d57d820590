"""What applying a feature definitions file would do: each entity and view created, updated or
unchanged, with the write that makes the change, and every reason to refuse the file.
`FeatureStore.apply` plans under a read, then plans again under the write lock and runs the
writes only when nothing is refused, so a file applies all or none."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from core import audit
from core.errors import InvalidInput
from core.features import definitions as defs
from core.features import ingest
from core.features.definitions import EntitySpec, ViewSpec
from core.features.types import AppliedChange
from core.jsonable import canonical_json
from storage.conn import Conn
from storage.repos import features as repo

Write = Callable[[Conn, datetime, str], None]
"""One planned change, run inside the apply's write transaction: (conn, now, actor)."""


def apply_plan(
    conn: Conn, found: defs.Definitions
) -> tuple[list[tuple[AppliedChange, Write | None]], list[str]]:
    """Each change a definitions file makes to the store as it is in `conn`, with the write that
    makes it (None when unchanged), and every reason the file must be refused."""
    entities = {r["name"]: entity_spec(r) for r in repo.list_entities(conn)}
    views = {r["name"]: r for r in repo.latest_views(conn)}
    plan: list[tuple[AppliedChange, Write | None]] = []
    problems: list[str] = []
    users: dict[str, list[str]] = {}
    for name, row in views.items():
        users.setdefault(json.loads(row["definition"])["entity"], []).append(name)

    for name, spec in found.entities.items():
        old = entities.get(name)
        if old is None:
            plan.append((AppliedChange("entity", name, "created", changes=[f"join key {spec.join_key} ({spec.value_type})"]),
                         _write_entity(spec, None)))  # fmt: skip
            continue
        changes, wrong = defs.compare_entity(old, spec, sorted(users.get(name, [])))
        problems += wrong
        action = "updated" if changes else "unchanged"
        plan.append((AppliedChange("entity", name, action, changes=changes),
                     _write_entity(spec, old)))  # fmt: skip

    for name, spec in found.views.items():
        entity = found.entities.get(spec.entity) or entities.get(spec.entity)
        if entity is None:
            raise InvalidInput(
                f"view {name}: entity {spec.entity!r} is not declared (in this file or the store)"
            )
        clash = [f.name for f in spec.features if f.name.lower() == entity.join_key.lower()]
        if clash:
            problems.append(f"view {name}: feature {clash[0]!r} is the entity's join key")
            continue
        row = views.get(name)
        if row is None:
            plan.append((AppliedChange("view", name, "created", 1, ["created"]),
                         _write_view(spec, entity, None, 1, ["created"])))  # fmt: skip
            continue
        old = ViewSpec.from_json(name, json.loads(row["definition"]))
        changes, wrong = defs.compare_view(old, spec)
        problems += wrong
        version = int(row["version"])
        if changes:
            plan.append((AppliedChange("view", name, "updated", version + 1, changes),
                         _write_view(spec, entity, old, version + 1, changes)))  # fmt: skip
        else:
            plan.append((AppliedChange("view", name, "unchanged", version), None))
    return plan, problems


def entity_spec(row: dict[str, Any]) -> EntitySpec:
    """An `entities` row as the definition it stores."""
    return EntitySpec(row["name"], row["join_key"], row["value_type"], row["description"])


def check_source_file(view: ViewSpec, entity: EntitySpec) -> None:
    """InvalidInput unless a view's source file has the columns it declares."""
    present = ingest.columns_of(Path(view.source))
    ingest.check_columns(view, entity.join_key, present, f"view {view.name}'s source {view.source}",
                         strict=False)  # fmt: skip


def _write_entity(spec: EntitySpec, old: EntitySpec | None) -> Write:
    def write(conn: Conn, now: datetime, actor: str) -> None:
        if old is None:
            repo.insert_entity(conn, {"name": spec.name, "join_key": spec.join_key,
                                      "value_type": spec.value_type, "description": spec.description,
                                      "created_at": now, "created_by": actor, "updated_at": now})  # fmt: skip
        else:
            repo.update_entity(conn, spec.name, join_key=spec.join_key,
                               value_type=spec.value_type, description=spec.description, at=now)  # fmt: skip
        audit.append(
            conn, actor=actor, action="features.entity." + ("create" if old is None else "update"),
            target=f"entity:{spec.name}", before=None if old is None else _entity_json(old),
            after=_entity_json(spec),
        )  # fmt: skip

    return write


def _entity_json(spec: EntitySpec) -> dict[str, Any]:
    return {"join_key": spec.join_key, "value_type": spec.value_type,
            "description": spec.description}  # fmt: skip


def _write_view(
    spec: ViewSpec, entity: EntitySpec, old: ViewSpec | None, version: int, changes: list[str]
) -> Write:
    def write(conn: Conn, now: datetime, actor: str) -> None:
        repo.insert_view_version(conn, {"name": spec.name, "version": version,
                                        "definition": canonical_json(spec.to_json()),
                                        "changes": canonical_json(changes), "applied_at": now,
                                        "applied_by": actor})  # fmt: skip
        typed = [(f.name, f.type.value) for f in spec.features]
        if old is None:
            repo.insert_state(conn, spec.name)
            if spec.from_store:
                repo.create_offline_table(conn, spec.name, entity.value_type, typed)
        elif spec.from_store:
            known = {f.name for f in old.features}
            repo.add_offline_columns(conn, spec.name, [t for t in typed if t[0] not in known])
        audit.append(
            conn, actor=actor, action="features.view." + ("create" if old is None else "update"),
            target=f"{spec.name}:v{version}", before=None if old is None else old.to_json(),
            after=spec.to_json(), reason="; ".join(changes),
        )  # fmt: skip

    return write
