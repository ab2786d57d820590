"""Who holds a store: the owner file beside the database, and the message for the others."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from storage.paths import OWNER_FILE

_PID_IN_DUCKDB_MESSAGE = re.compile(r"\(PID (\d+)\)")


@dataclass(frozen=True)
class OwnerInfo:
    pid: int
    command: str
    started_at: float
    socket: str | None = None


def this_command() -> str:
    """How a person would name this process: `mlc serve --port 8765`, `python3 -c …`."""
    parts = _cmdline_parts(os.getpid()) or list(sys.argv) or ["python"]
    if len(parts) > 1 and Path(parts[0]).name.startswith("python") and not parts[1].startswith("-"):
        parts = parts[1:]  # a script run by the interpreter: name the script
    parts[0] = Path(parts[0]).name
    return " ".join(p.replace("\n", " ") for p in parts)[:200]


def _cmdline_parts(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [p.decode(errors="replace") for p in raw.split(b"\0") if p]


def write_owner(home: Path, socket: str | None = None) -> OwnerInfo:
    info = OwnerInfo(os.getpid(), this_command(), time.time(), socket)
    tmp = home / f".{OWNER_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(info.__dict__))
    tmp.replace(home / OWNER_FILE)
    return info


def read_owner(home: Path) -> OwnerInfo | None:
    try:
        raw = json.loads((home / OWNER_FILE).read_text())
        return OwnerInfo(
            int(raw["pid"]), str(raw["command"]), float(raw["started_at"]), raw.get("socket")
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear_owner(home: Path) -> None:
    """Remove the owner file if it is ours (another process may have taken over since)."""
    info = read_owner(home)
    if info is not None and info.pid == os.getpid():
        (home / OWNER_FILE).unlink(missing_ok=True)


def _cmdline(pid: int) -> str | None:
    return " ".join(_cmdline_parts(pid))[:200] or None


def describe_holder(home: Path, duckdb_message: str) -> str:
    """One line naming the process that holds the store, and what to do about it."""
    match = _PID_IN_DUCKDB_MESSAGE.search(duckdb_message)
    pid = int(match.group(1)) if match else None
    info = read_owner(home)
    command = None
    if info is not None and (pid is None or info.pid == pid):
        pid, command = info.pid, info.command
    if pid is not None and command is None:
        command = _cmdline(pid)
    who = f"pid {pid}" if pid is not None else "another process"
    if command:
        who += f" ({command})"
    if info is not None and info.socket and info.pid == pid:
        # Clients reach a serving owner through its socket; getting here means it did not answer.
        return (
            f"store {home} is held by {who}; it serves the store on {info.socket};"
            " is it still starting? Try again in a moment"
        )
    return (
        f"store {home} is held by {who}; wait for it to finish, stop it"
        + (f" (kill {pid})" if pid is not None else "")
        + ", or point mlc at another store with --store"
    )
