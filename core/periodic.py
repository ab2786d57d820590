"""A background loop of a long-lived owner: one daemon thread calling a function on a
fixed interval until stopped. A failing call is logged and the loop carries on."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, fn: Callable[[], object], every_s: float) -> None:
        self.name = name
        self.fn = fn
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.fn()
            except Exception:
                log.exception("%s failed; trying again in %g s", self.name, self.every_s)


class Wakeups:
    """When a periodic pass may skip reading the store: its last read found nothing to do
    and nothing was added since. Only the store's owner adds work, so it can count what it
    adds: writers call `added` once their transaction committed (`Conn.committed`); a pass
    takes `look()` before its read (None: skip) and hands the token to `found_nothing` when
    the read came back empty. Work committed after a pass's read is seen by the next pass,
    whose token then differs."""

    def __init__(self) -> None:
        self._added = 0
        self._idle_at = -1  # the first pass looks

    def added(self) -> None:
        self._added += 1

    def look(self) -> int | None:
        token = self._added
        return None if token == self._idle_at else token

    def found_nothing(self, token: int) -> None:
        self._idle_at = token
