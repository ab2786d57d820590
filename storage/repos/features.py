"""The feature store's rows: entities, view versions and state, each store-sourced view's
offline table `fv_<view>`, the online table, training lineage — and the point-in-time join.

Offline tables use fixed internal names for their bookkeeping columns (`_key`, `_event_ts`,
`_created_ts`, `_ingested_at`) and the feature names for the rest, so renaming a view's
timestamp column in its definition is only a change of how files are read. Identifiers
(view and feature names) are checked against a strict pattern here as well as in `core`:
they are the only values that reach SQL other than as bound parameters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from storage.conn import Conn

_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_FEATURE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")

KEY_TYPES = {"string": "VARCHAR", "int": "BIGINT"}
VALUE_TYPES = {"numeric": "DOUBLE", "categorical": "VARCHAR", "binary": "BOOLEAN"}
BOOKKEEPING = ("_key", "_event_ts", "_created_ts", "_ingested_at")


def _view(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a view name: {name!r}")
    return name


def _feature(name: str) -> str:
    if not _FEATURE.match(name):
        raise ValueError(f"not a feature name: {name!r}")
    return f'"{name}"'


def table_name(view: str) -> str:
    return f"fv_{_view(view)}"


# --- entities ---------------------------------------------------------------------------


def get_entity(conn: Conn, name: str) -> dict[str, Any] | None:
    return conn.row("SELECT * FROM feature_entities WHERE name = ?", [name])


def list_entities(conn: Conn) -> list[dict[str, Any]]:
    return conn.rows("SELECT * FROM feature_entities ORDER BY name")


def insert_entity(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO feature_entities"
        " (name, join_key, value_type, description, created_at, created_by, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [row["name"], row["join_key"], row["value_type"], row["description"],
         row["created_at"], row["created_by"], row["updated_at"]],
    )  # fmt: skip


def update_entity(
    conn: Conn, name: str, *, join_key: str, value_type: str, description: str, at: datetime
) -> None:
    conn.execute(
        "UPDATE feature_entities SET join_key = ?, value_type = ?, description = ?,"
        " updated_at = ? WHERE name = ?",
        [join_key, value_type, description, at, name],
    )


# --- view versions and state ------------------------------------------------------------


_WITH_STATE = (
    "SELECT v.*, s.offline_rows, s.has_ties, s.last_ingest_at, s.materialized_up_to,"
    " s.materialized_at, s.online_entities"
    " FROM feature_view_versions v JOIN feature_view_state s USING (name)"
)


def latest_views(conn: Conn) -> list[dict[str, Any]]:
    """The newest version of every view, with its state, by name."""
    return conn.rows(
        f"{_WITH_STATE} QUALIFY row_number() OVER (PARTITION BY v.name ORDER BY v.version DESC) = 1"
        " ORDER BY v.name"
    )


def latest_view(conn: Conn, name: str) -> dict[str, Any] | None:
    """The newest version of one view, with its state."""
    return conn.row(f"{_WITH_STATE} WHERE v.name = ? ORDER BY v.version DESC LIMIT 1", [name])


def view_versions(conn: Conn, name: str) -> list[dict[str, Any]]:
    return conn.rows("SELECT * FROM feature_view_versions WHERE name = ? ORDER BY version", [name])


def insert_view_version(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO feature_view_versions"
        " (name, version, definition, changes, applied_at, applied_by) VALUES (?, ?, ?, ?, ?, ?)",
        [row["name"], row["version"], row["definition"], row["changes"], row["applied_at"],
         row["applied_by"]],
    )  # fmt: skip


def insert_state(conn: Conn, name: str) -> None:
    conn.execute("INSERT INTO feature_view_state (name) VALUES (?)", [name])


_STATE = {"offline_rows", "has_ties", "last_ingest_at", "materialized_up_to", "materialized_at",
          "online_entities"}  # fmt: skip


def update_state(conn: Conn, name: str, **values: Any) -> None:
    bad = set(values) - _STATE
    if bad:
        raise ValueError(f"not updatable: {bad}")
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE feature_view_state SET {sets} WHERE name = ?", [*values.values(), name])


# --- offline tables ---------------------------------------------------------------------


def create_offline_table(
    conn: Conn, view: str, key_type: str, features: Sequence[tuple[str, str]]
) -> None:
    """`features` are (name, type) with types from VALUE_TYPES."""
    columns = [
        f"_key {KEY_TYPES[key_type]} NOT NULL",
        "_event_ts TIMESTAMP NOT NULL",
        "_created_ts TIMESTAMP",
        "_ingested_at TIMESTAMP",
        *(f"{_feature(name)} {VALUE_TYPES[kind]}" for name, kind in features),
    ]
    conn.execute(f"CREATE TABLE {table_name(view)} ({', '.join(columns)})")


def add_offline_columns(conn: Conn, view: str, features: Sequence[tuple[str, str]]) -> None:
    for name, kind in features:
        conn.execute(
            f"ALTER TABLE {table_name(view)} ADD COLUMN {_feature(name)} {VALUE_TYPES[kind]}"
        )


def append_offline(conn: Conn, view: str, frame: pl.DataFrame) -> bool:
    """Append rows (bookkeeping columns and features, by name) in one statement; True when
    a row now shares its (key, event time) with another, so reads must break the tie."""
    table = table_name(view)
    keys = frame.select("_key", "_event_ts")
    ties = keys.is_duplicated().any()
    if not ties:
        ties = bool(
            conn.frame_over(
                f"SELECT EXISTS (SELECT 1 FROM _batch b JOIN {table} t"
                " ON t._key = b._key AND t._event_ts = b._event_ts) AS found",
                {"_batch": keys},
            ).item()
        )
    cols = ", ".join(_column(c) for c in frame.columns)
    conn.execute_over(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _rows", {"_rows": frame})
    return bool(ties)


def _column(name: str) -> str:
    return name if name in BOOKKEEPING else _feature(name)


def quote(name: str) -> str:
    """Any column name of a caller's frame, as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# --- the point-in-time join -------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a view's rows are read from: its offline table, or a frame in the offline
    layout (a file source, read and checked by the caller)."""

    view: str
    frame: pl.DataFrame | None = None
    ties: bool = True
    """Whether rows may share (key, event time): only then is the tie-break paid for."""

    def relation(self, alias: str, columns: Sequence[str]) -> tuple[str, dict[str, pl.DataFrame]]:
        """A SELECT of `columns` with one row per (key, event time): the newest created wins,
        then the latest ingested."""
        cols = ", ".join(_column(c) for c in columns)
        frames: dict[str, pl.DataFrame] = {}
        if self.frame is None:
            source = table_name(self.view)
        else:
            source = f"_src_{alias}"
            frames[source] = self.frame
        sql = f"SELECT {cols} FROM {source}"
        if self.ties:
            sql += (
                " QUALIFY row_number() OVER (PARTITION BY _key, _event_ts"
                " ORDER BY _created_ts DESC NULLS LAST, _ingested_at DESC NULLS LAST) = 1"
            )
        return sql, frames


@dataclass(frozen=True)
class Join:
    source: Source
    key: str
    """The entity frame's column holding this view's entity key (already of the key type)."""
    features: tuple[str, ...]
    ttl_us: int | None


ROW = "__mlc_row"


def point_in_time(
    conn: Conn, entities: pl.DataFrame, timestamp: str, joins: Sequence[Join]
) -> pl.DataFrame:
    """For each row of `entities` (which carries ROW, its position), every join's features
    from the latest row with the same key and an event time at or before `timestamp` — null
    when that row is older than the TTL. DuckDB's ASOF LEFT JOIN, one per view; the answer
    keeps the entity rows' order."""
    frames: dict[str, pl.DataFrame] = {"_entities": entities}
    selects = ["e.*"]
    clauses: list[str] = []
    params: dict[str, Any] = {}
    ts = f"e.{quote(timestamp)}"
    for i, join in enumerate(joins):
        alias = f"j{i}"
        sql, more = join.source.relation(alias, ["_key", "_event_ts", *join.features])
        frames.update(more)
        clauses.append(
            f"ASOF LEFT JOIN ({sql}) {alias}"
            f" ON e.{quote(join.key)} = {alias}._key AND {ts} >= {alias}._event_ts"
        )
        fresh = "TRUE"
        if join.ttl_us is not None:
            params[f"ttl{i}"] = int(join.ttl_us)
            fresh = f"{alias}._event_ts >= {ts} - to_microseconds($ttl{i})"
        for feature in join.features:
            selects.append(
                f"CASE WHEN {fresh} THEN {alias}.{_feature(feature)} END AS {_feature(feature)}"
            )
    sql = (
        f"SELECT {', '.join(selects)} FROM _entities e {' '.join(clauses)} ORDER BY e.{quote(ROW)}"
    )
    return conn.frame_over(sql, frames, params)


# --- the online store -------------------------------------------------------------------


def latest_rows(
    conn: Conn,
    source: Source,
    features: Sequence[str],
    up_to: datetime,
    ttl_us: int | None,
) -> pl.DataFrame:
    """The latest row per entity at or before `up_to` (and within the TTL before it), as
    `entity_key` (text), `event_ts` and `features` (a JSON object): what the online store
    holds. A read: the write that replaces the online rows then takes milliseconds."""
    sql, frames = source.relation(
        "m", ["_key", "_event_ts", "_created_ts", "_ingested_at", *features]
    )
    window = "_event_ts <= $up_to"
    params: dict[str, Any] = {"up_to": up_to}
    if ttl_us is not None:
        window += " AND _event_ts >= $up_to - to_microseconds($ttl)"
        params["ttl"] = int(ttl_us)
    pairs = ", ".join(f"'{name}', {_feature(name)}" for name in features)
    return conn.frame_over(
        f"SELECT CAST(_key AS VARCHAR) AS entity_key, _event_ts AS event_ts,"
        f" CAST(json_object({pairs}) AS VARCHAR) AS features"
        f" FROM ({sql}) WHERE {window}"
        " QUALIFY row_number() OVER (PARTITION BY _key ORDER BY _event_ts DESC,"
        " _created_ts DESC NULLS LAST, _ingested_at DESC NULLS LAST) = 1",
        frames,
        params,
    )


def replace_online(conn: Conn, view: str, rows: pl.DataFrame) -> None:
    """The view's online rows become `rows` (from `latest_rows`)."""
    conn.execute("DELETE FROM feature_online WHERE view = ?", [_view(view)])
    if rows.height:
        conn.execute_over(
            "INSERT INTO feature_online (view, entity_key, event_ts, features)"
            " SELECT $view, entity_key, event_ts, features FROM _online",
            {"_online": rows.select("entity_key", "event_ts", "features")},
            {"view": view},
        )


def online_rows(conn: Conn, view: str, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The online rows of these entity keys (as text); keys without one are left out."""
    if not keys:
        return []
    return conn.rows(
        "SELECT entity_key, features FROM feature_online"
        " WHERE view = ? AND list_contains(?, entity_key)",
        [view, list(keys)],
    )


# --- training lineage -------------------------------------------------------------------


def insert_lineage(conn: Conn, row: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO feature_lineage (job_id, entities, entities_sha256, timestamp_column,"
        " features, views, rows, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [row["job_id"], row["entities"], row["entities_sha256"], row["timestamp_column"],
         row["features"], row["views"], row["rows"], row["created_at"]],
    )  # fmt: skip


def lineage_for_job(conn: Conn, job_id: str) -> dict[str, Any] | None:
    return conn.row("SELECT * FROM feature_lineage WHERE job_id = ?", [job_id])
