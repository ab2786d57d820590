"""BatchQueue: the consumer lingers for a batch, wakes early only when the batch is due, and
is not woken for every item put while it lingers."""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.events.batch_queue import BatchQueue

LONG = 60.0  # a linger no test waits out: returning at all proves it was cut short


def _taking(q: BatchQueue[str], *args: float) -> tuple[threading.Thread, list]:
    out: list = []
    t = threading.Thread(target=lambda: out.append(q.take(*args)), daemon=True)  # type: ignore[arg-type]
    t.start()
    return t, out


def _until(cond: Callable[[], bool]) -> None:
    event = threading.Event()
    for _ in range(2_000):  # 10 s, then fail rather than hang
        if cond():
            return
        event.wait(0.005)
    raise AssertionError("the consumer never started lingering")


def test_takes_what_gathered_during_the_linger_in_order() -> None:
    q: BatchQueue[str] = BatchQueue()
    for name in "abc":
        q.put(name, 1)
    assert q.take(0.05, 100, 1_000) == ["a", "b", "c"]


def test_an_urgent_item_ends_the_linger() -> None:
    q: BatchQueue[str] = BatchQueue()
    q.put("a", 1)
    t, out = _taking(q, LONG, 100, 1_000)
    q.put("flush", 0, urgent=True)
    t.join(10)
    assert not t.is_alive() and out == [["a", "flush"]]


def test_enough_weight_ends_the_linger() -> None:
    q: BatchQueue[str] = BatchQueue()
    q.put("a", 60)
    t, out = _taking(q, LONG, 100, 1_000)
    q.put("b", 50)
    t.join(10)
    assert not t.is_alive() and out == [["a", "b"]]


def test_a_batch_stops_once_it_reaches_max_weight() -> None:
    q: BatchQueue[str] = BatchQueue()
    for name in "abcd":
        q.put(name, 40)
    assert q.take(LONG, 100, 100) == ["a", "b", "c"]  # the last may cross it
    q.put("e", 0, urgent=True)
    assert q.take(LONG, 100, 100) == ["d", "e"]


def test_close_hands_over_what_is_left_then_none() -> None:
    q: BatchQueue[str] = BatchQueue()
    idle, out = _taking(q, LONG, 100, 1_000)
    q.put("a", 1)  # wakes a consumer waiting for its first item; it lingers
    _until(lambda: q._due_weight == 100)
    q.close()
    idle.join(10)
    assert not idle.is_alive() and out == [["a"]]
    assert q.take(LONG, 100, 1_000) is None


def test_items_put_during_a_linger_do_not_wake_the_consumer() -> None:
    q: BatchQueue[str] = BatchQueue()
    wakes = 0
    notify = q._cond.notify

    def counting(n: int = 1) -> None:
        nonlocal wakes
        wakes += 1
        notify(n)

    q._cond.notify = counting  # type: ignore[method-assign]
    t, out = _taking(q, LONG, 1_000, 10_000)
    q.put("first", 1)  # the consumer waits for a first item: woken
    _until(lambda: q._due_weight == 1_000)
    for i in range(200):
        q.put(str(i), 1)
    assert wakes == 1 and t.is_alive()
    q.put("flush", 0, urgent=True)
    t.join(10)
    assert wakes == 2 and len(out[0]) == 202
