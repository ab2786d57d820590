"""Reaching a store's owner: alive is decided by its lock and process, never by a timeout.

A client (an `mlc` command, a console) asks `storage.owner.current_owner`: is the owner lock
held, and by which live process? If that process serves the store, the client connects to
its socket and waits for it however long it takes to answer (up to `patience_s`), saying
once on stderr that it waits and why: the owner is starting (its socket is not listening
yet) or busy (it accepted the connection and has not answered). A busy owner is never taken
for a dead one; only when its lock is free, or the process it names is gone, does a client
open the store itself.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import StoreUnavailable
from storage.owner import OwnerInfo, current_owner

if TYPE_CHECKING:
    from app.client import RemoteEngine
    from core.engine import Engine

PROBE_S = 2.0
"""How long an owner may take to answer a liveness probe before a client says it waits."""
PATIENCE_S = 300.0
"""How long a client waits for a live owner that does not answer (`MLC_OWNER_WAIT_S`)."""

Say = Callable[[str], None]


def patience_s() -> float:
    try:
        return max(0.0, float(os.environ.get("MLC_OWNER_WAIT_S", PATIENCE_S)))
    except ValueError:
        return PATIENCE_S


def reach_owner(home: Path, *, say: Say | None = None) -> RemoteEngine | None:
    """A client of the process that serves `home`, once it answers; None when no process
    holds the store or its holder serves no socket (a short-lived command: open the store,
    which waits briefly for it and then names it). Raises `StoreUnavailable` when a live
    owner has not answered within `patience_s()`."""
    deadline = time.monotonic() + patience_s()
    told: str | None = None
    wait_s = PROBE_S
    while True:
        owner = current_owner(home)
        if owner is None or owner.socket is None:
            if told is not None and say is not None:
                say("the store's owner is gone; opening the store")
            return None
        left = deadline - time.monotonic()
        found = _probe(Path(owner.socket), timeout_s=max(0.1, min(wait_s, left)))
        if not isinstance(found, str):
            found.on_wait = say
            return found
        if left <= 0:
            raise StoreUnavailable(_not_answering(home, owner, found))
        if found != told:
            if say is not None:
                say(f"waiting for the store's owner (pid {owner.pid}, {found}) …")
            told = found
        if found == "busy":
            wait_s = 30.0  # it is alive and has our request queued: let it answer that one
        else:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def _probe(path: Path, *, timeout_s: float) -> RemoteEngine | str:
    """A client of the server on `path` if it answers within `timeout_s`, else why not:
    "starting" (nothing listens there yet) or "busy" (it accepted and did not answer)."""
    # Imported here: httpx costs start-up time that a command on an unowned store need not pay.
    import httpx

    from app.client import DEFAULT_TIMEOUT_S, RemoteEngine

    try:
        if not stat.S_ISSOCK(path.stat().st_mode):
            return "starting"
    except OSError:
        return "starting"
    remote = RemoteEngine(socket=path, timeout_s=timeout_s)
    try:
        # Any HTTP answer proves the server alive, even an error from an older version.
        remote._http.get("/healthz")
    except httpx.TransportError as e:
        remote.close()
        # A timeout: it accepted and did not answer. Else (a refused connection, most often):
        # bound, not yet listening (or a stale file the owner replaces).
        return "busy" if isinstance(e, httpx.TimeoutException) else "starting"
    remote._http.timeout = httpx.Timeout(DEFAULT_TIMEOUT_S, connect=5.0)
    return remote


def _not_answering(home: Path, owner: OwnerInfo, why: str) -> str:
    doing = "accepts connections but has not answered" if why == "busy" else "is not listening"
    return (
        f"store {home} is held by pid {owner.pid} ({owner.command}), which serves it on"
        f" {owner.socket} but {doing} for {patience_s():.0f} s (MLC_OWNER_WAIT_S);"
        f" check it (its log, `kill -0 {owner.pid}`) or stop it"
    )


def open_or_reach(home: Path, *, say: Say | None = None) -> Engine:
    """The owner's engine when a process serves `home`, else the store opened here. Should a
    serving owner take the store between the two (opening then finds it held), wait for it."""
    from core.engine import LocalEngine

    while True:
        remote = reach_owner(home, say=say)
        if remote is not None:
            return remote
        try:
            return LocalEngine.open(home)
        except StoreUnavailable:
            owner = current_owner(home)
            if owner is None or owner.socket is None:
                raise
