"""Admission control for the data plane: shed by queueing delay, before a body is read.

A data-plane request works in one of `slots` (reading its body, predicting, waiting for its
events' group commit); at most `max_body_bytes` of bodies are in flight. Others wait in
arrival order. A request that arrives when its wait would exceed `max_wait_s` is answered at
once with 503 and `Retry-After`, its body unread: the expected wait is its place in the line
times the recent time a request holds a slot, over the slots (Little's law), and a line whose
head has already waited longer than the bound refuses newcomers whatever the estimate says.
A request whose turn comes after it waited past the bound (the estimate was wrong) is shed
then, rather than served to a client that has likely given up. The line itself is capped at
`max_waiting`, and the server caps connections (see `app.api.server`), so memory stays
bounded however many clients come: a waiting request holds at most uvicorn's 64 KiB read
buffer.

Slots count requests, not threads: a prediction answered on the event loop holds one too.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from core.errors import Overloaded

DEFAULT_MAX_WAIT_S = 1.0
DEFAULT_SLOTS = 8
"""Data-plane requests working at once. On 2 cores the GIL makes more of them slower, not
faster; 8 leaves room for requests waiting on a journal sync beside those computing."""
DEFAULT_MAX_WAITING = 2_000
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
_SMOOTHING = 0.1


@dataclass(eq=False)
class _Waiter:
    arrived: float
    size: int
    future: asyncio.Future[bool]
    loop: asyncio.AbstractEventLoop
    admitted: bool = False


@dataclass
class Admission:
    max_wait_s: float = DEFAULT_MAX_WAIT_S
    slots: int = DEFAULT_SLOTS
    max_waiting: int = DEFAULT_MAX_WAITING
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    busy: int = 0
    """Requests holding a slot."""
    body_bytes: int = 0
    """Bytes of bodies (as declared, else the body limit) held by requests in slots."""
    hold_s: float | None = None
    """How long a request has held its slot lately (a moving average)."""
    shed: int = 0
    _line: deque[_Waiter] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.max_wait_s <= 0:
            raise ValueError("the queueing bound must be positive")

    async def enter(self, size: int) -> float:
        """Wait for a slot for a request whose body is `size` bytes; return when it was
        admitted (`time.monotonic()`), for `leave`. Raises `Overloaded` (503 +
        Retry-After) when the wait would be, or was, longer than `max_wait_s`."""
        size = min(size, self.max_body_bytes)
        now = time.monotonic()
        with self._lock:
            if not self._line and self._fits(size):
                self._take(size)
                return now
            expected = self._expected_wait(len(self._line) + 1)
            head_waited = now - self._line[0].arrived if self._line else 0.0
            if (
                expected > self.max_wait_s
                or head_waited > self.max_wait_s
                or len(self._line) >= self.max_waiting
            ):
                self.shed += 1
                raise self._overloaded(max(expected, head_waited))
            loop = asyncio.get_running_loop()
            waiter = _Waiter(now, size, loop.create_future(), loop)
            self._line.append(waiter)
        try:
            admitted = await waiter.future
        except asyncio.CancelledError:  # the client went away while waiting
            with self._lock:
                if waiter.admitted:
                    self._give_back(waiter.size)
                    self._admit_next()
                elif waiter in self._line:
                    self._line.remove(waiter)
            raise
        if not admitted:
            raise self._overloaded(time.monotonic() - waiter.arrived)
        return time.monotonic()

    def leave(self, size: int, admitted_at: float) -> None:
        """Give the slot back (from any thread), and let the next in line in."""
        size = min(size, self.max_body_bytes)
        held = time.monotonic() - admitted_at
        with self._lock:
            self.hold_s = (
                held if self.hold_s is None else (1 - _SMOOTHING) * self.hold_s + _SMOOTHING * held
            )
            self._give_back(size)
            self._admit_next()

    def waiting(self) -> int:
        return len(self._line)

    # --- with the lock held -------------------------------------------------------------

    def _fits(self, size: int) -> bool:
        if self.busy >= self.slots:
            return False
        # One request alone may always carry a body up to the limit.
        return self.busy == 0 or self.body_bytes + size <= self.max_body_bytes

    def _take(self, size: int) -> None:
        self.busy += 1
        self.body_bytes += size

    def _give_back(self, size: int) -> None:
        self.busy -= 1
        self.body_bytes -= size

    def _admit_next(self) -> None:
        now = time.monotonic()
        while self._line and self._fits(self._line[0].size):
            waiter = self._line.popleft()
            if waiter.future.done():  # cancelled meanwhile
                continue
            if now - waiter.arrived > self.max_wait_s:
                self.shed += 1
                waiter.loop.call_soon_threadsafe(_settle, waiter.future, False)
                continue
            self._take(waiter.size)
            waiter.admitted = True
            waiter.loop.call_soon_threadsafe(_settle, waiter.future, True)

    def _expected_wait(self, place: int) -> float:
        if self.hold_s is None:
            return 0.0
        return place * self.hold_s / self.slots

    def _overloaded(self, wait_s: float) -> Overloaded:
        retry = max(1, math.ceil(min(wait_s, 30.0)))
        return Overloaded(
            f"the data plane is saturated: this request would wait {wait_s:.1f} s for its turn,"
            f" over the {self.max_wait_s:g} s bound; retry in {retry} s",
            retry_after_s=float(retry),
        )


def _settle(future: asyncio.Future[bool], admitted: bool) -> None:
    if not future.done():
        future.set_result(admitted)
