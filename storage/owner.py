"""Who holds a store: the owner lock and file beside the database, and the message for others.

Whoever opens the store takes the **owner lock** (`owner.lock`, an exclusive `flock`) and
writes the **owner file** (`owner.json`: pid, the process's start time, its command and the
socket it serves, if any). The kernel drops the lock when its holder dies, however it dies,
so "is the lock held?" is the store's liveness test: a client asks it, never a health check
with a timeout, and so never takes a busy owner for a dead one. The file then says who holds
the lock and where to reach it.

Why not test DuckDB's own lock: it is a POSIX record lock, and a process that holds it loses
it the moment it closes *any* descriptor of the file; a probe opening the database from the
owner's own process (a console serving a store and running a command in the same process)
would silently unlock it. A `flock` belongs to its open file description, so probing from
any process, the holder's included, is safe.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from storage.paths import OWNER_FILE

LOCK_FILE = "owner.lock"
_PID_IN_DUCKDB_MESSAGE = re.compile(r"\(PID (\d+)\)")

_held: dict[Path, tuple[int, int]] = {}
"""Store directory → (descriptor of its owner lock, opens of it in this process), for the
stores this process holds (DuckDB lets one process open a database more than once)."""
_serving: dict[Path, str] = {}
"""Store directory → the socket this process will serve it on (`will_serve`)."""
_guard = threading.Lock()


@dataclass(frozen=True)
class OwnerInfo:
    pid: int
    command: str
    started_at: float
    """When the owner file was written (seconds since the epoch)."""
    socket: str | None = None
    """The Unix socket this owner serves (or will serve, once started) the store on."""
    process_start: int | None = None
    """The process's start time in clock ticks since boot (`/proc/PID/stat`): tells the
    owner from a later process that reuses its pid."""


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


def process_start(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot; None without /proc or pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command (field 2) is in parentheses and may hold spaces or parentheses itself.
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 of the whole line
    except (IndexError, ValueError):
        return None


def is_alive(info: OwnerInfo) -> bool:
    """Whether the process the owner file names still runs (and is that same process)."""
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    if info.process_start is None:
        return True
    now = process_start(info.pid)
    return now is None or now == info.process_start


def will_serve(home: Path, socket: str) -> None:
    """Say, before opening the store, that this process will serve it on `socket`: the
    owner file names the socket from the moment the store is taken, so a client that comes
    while the owner is still starting (replaying its journal, say) waits for it rather than
    reporting it as a command holding the store."""
    with _guard:
        _serving[home.resolve()] = socket


def take_lock(home: Path) -> None:
    """Hold `home`'s owner lock until `clear_owner` (call once the store is open: DuckDB's
    lock is what decides who owns it; this one lets others see that someone does)."""
    key = home.resolve()
    with _guard:
        if key in _held:
            fd, opens = _held[key]
            _held[key] = (fd, opens + 1)
            return
        fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            # Held by a process that has not yet let go of a store we now hold (its flock
            # outlives it only while a descriptor of it does, e.g. in a forked child): the
            # database lock is ours, so the store is too; the lock follows once freed.
            os.close(fd)
            return
        _held[key] = (fd, 1)


def lock_held(home: Path) -> bool:
    """Whether a process (this one included) holds `home`'s owner lock: the store is open."""
    if home.resolve() in _held:
        return True
    try:
        fd = os.open(home / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as e:
        return e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def write_owner(home: Path, socket: str | None = None) -> OwnerInfo:
    """Take the owner lock and say who holds the store: once per open of the store (by
    `Store.open`), balanced by one `clear_owner` when it closes. The socket is `socket`, else
    the one `will_serve` announced."""
    take_lock(home)
    if socket is None:
        with _guard:
            socket = _serving.get(home.resolve())
    info = OwnerInfo(os.getpid(), this_command(), time.time(), socket, process_start(os.getpid()))
    tmp = home / f".{OWNER_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(info.__dict__))
    tmp.replace(home / OWNER_FILE)
    return info


def read_owner(home: Path) -> OwnerInfo | None:
    try:
        raw = json.loads((home / OWNER_FILE).read_text())
        start = raw.get("process_start")
        return OwnerInfo(
            int(raw["pid"]), str(raw["command"]), float(raw["started_at"]), raw.get("socket"),
            None if start is None else int(start),
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def current_owner(home: Path) -> OwnerInfo | None:
    """The process that holds `home` now, if it can be named: the owner lock is held and
    the owner file names a live process. None when nobody holds the store, and also in the
    instant between an opener taking the lock and writing the file (ask again)."""
    if not lock_held(home):
        return None
    info = read_owner(home)
    if info is None or not is_alive(info):
        return None
    return info


def clear_owner(home: Path) -> None:
    """Remove the owner file if it is ours (another process may have taken over since), and
    let go of the owner lock."""
    key = home.resolve()
    with _guard:
        held = _held.pop(key, None)
        if held is not None and held[1] > 1:  # another open in this process still holds it
            _held[key] = (held[0], held[1] - 1)
            return
        fd = held[0] if held is not None else None
        _serving.pop(key, None)
    info = read_owner(home)
    if info is not None and info.pid == os.getpid():
        (home / OWNER_FILE).unlink(missing_ok=True)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)  # closing the descriptor releases the flock


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
        # Only an opener gets here (mlc commands reach a serving owner through its socket):
        # a second `mlc serve` or console, which cannot own the store beside it.
        return (
            f"store {home} is held by {who}; it serves the store on {info.socket}:"
            " mlc commands reach it there; stop it first to own the store here"
        )
    return (
        f"store {home} is held by {who}; wait for it to finish, stop it"
        + (f" (kill {pid})" if pid is not None else "")
        + ", or point mlc at another store with --store"
    )
