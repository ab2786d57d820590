"""A hand-off queue whose one consumer takes items in batches, lingering for more.

The event loader waits up to a few seconds for rows to gather. With `queue.Queue` it woke for
every item put meanwhile, only to go back to waiting: at a few hundred lone predictions a
second, that was a thread wake-up per request, each taking the GIL from the request being
served. Here the consumer sleeps through its linger and is woken only when the batch is due
(enough weight, an urgent item, or closing), or when it waits for a first item.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class BatchQueue(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._items: deque[tuple[T, int, bool]] = deque()
        """(item, weight, urgent), in order."""
        self._weight = 0
        self._urgent = 0
        self._closed = False
        self._due_weight: float = math.inf
        """The weight at which the lingering consumer wants waking (inf: it is not)."""

    def put(self, item: T, weight: int, *, urgent: bool = False) -> None:
        """Queue `item`; `urgent` ends the consumer's linger (someone waits for it)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("put on a closed BatchQueue")
            idle = not self._items
            self._items.append((item, weight, urgent))
            self._weight += weight
            self._urgent += urgent
            if idle or urgent or self._weight >= self._due_weight:
                self._cond.notify()

    def close(self) -> None:
        """No more puts: the consumer takes what is queued at once, then gets None."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    def take(self, linger_s: float, linger_weight: int, max_weight: int) -> list[T] | None:
        """Block until an item is queued, then until the queued weight reaches
        `linger_weight`, an urgent item is queued, the queue closes, or `linger_s` passes;
        return the items in order up to `max_weight` (at least one; the last may cross it).
        None once the queue is closed and empty."""
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            if not self._items:
                return None
            deadline = time.monotonic() + linger_s
            self._due_weight = linger_weight
            try:
                while not (self._closed or self._urgent or self._weight >= linger_weight):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            finally:
                self._due_weight = math.inf
            batch: list[T] = []
            weight = 0
            while self._items and weight < max_weight:
                item, w, urgent = self._items.popleft()
                batch.append(item)
                weight += w
                self._weight -= w
                self._urgent -= urgent
            return batch
