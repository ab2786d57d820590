"""Numbered schema migrations: `NNNN_name.sql` files beside this module.

Each migration runs in one transaction together with its row in `schema_version`, and is
followed by a checkpoint, so a store is always at exactly one known version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from storage.conn import Conn
from storage.errors import StoreUnavailable

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    found: list[Migration] = []
    for entry in resources.files("storage.migrations").iterdir():
        if m := _NAME.match(entry.name):
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text()))
    found.sort(key=lambda m: m.version)
    return found


def current_version(conn: Conn) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL)"
    )
    return int(conn.scalar("SELECT coalesce(max(version), 0) FROM schema_version"))


def migrate(conn: Conn) -> list[int]:
    """Apply every migration newer than the store's version; return the versions applied."""
    have = current_version(conn)
    known = available()
    newest = known[-1].version if known else 0
    if have > newest:
        raise StoreUnavailable(
            f"store schema is version {have} but this mlc knows only up to {newest}: upgrade mlc"
        )
    applied: list[int] = []
    for mig in known:
        if mig.version <= have:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            for statement in _statements(mig.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                [mig.version, mig.name, datetime.now(UTC)],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("CHECKPOINT")
        applied.append(mig.version)
    return applied


def _statements(sql: str) -> list[str]:
    # Migrations are our own files: split on ';' at line ends, dropping comment-only chunks.
    chunks = re.split(r";\s*\n", sql)
    out: list[str] = []
    for chunk in chunks:
        body = "\n".join(
            line for line in chunk.splitlines() if not line.strip().startswith("--")
        ).strip()
        if body:
            out.append(body.rstrip(";"))
    return out
