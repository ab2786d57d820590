"""Where a store lives on disk."""

from __future__ import annotations

import os
from pathlib import Path

DB_FILE = "mlc.duckdb"
ARTIFACTS_DIR = "artifacts"
SOCKET_FILE = "mlc.sock"
OWNER_FILE = "owner.json"
AUDIT_KEY_FILE = "audit.key"
"""The secret that signs the audit chain (32 random bytes, 0600); never in the database."""
AUDIT_HEAD_FILE = "audit.head"
"""The newest audit record's sequence and hash, rewritten after each append: outside the
table, so deleting its newest rows shows."""


def default_home() -> Path:
    """`$MLC_HOME`, else `$XDG_DATA_HOME/mlc`, else `~/.local/share/mlc`."""
    if home := os.environ.get("MLC_HOME"):
        return Path(home).expanduser()
    if xdg := os.environ.get("XDG_DATA_HOME"):
        return Path(xdg).expanduser() / "mlc"
    return Path.home() / ".local" / "share" / "mlc"


def resolve_home(store: str | os.PathLike[str] | None) -> Path:
    return Path(store).expanduser() if store else default_home()


JOURNAL_DIR = "journal"
