"""The data plane's admission gate: who waits, who is refused at once, and in what order."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.api.admission import Admission
from core.errors import Overloaded


def _held_for(gate: Admission, began: float, seconds: float, size: int = 0) -> None:
    """Give a slot back as if its request had held it for `seconds`."""
    gate.leave(size, began - seconds)


def test_free_slots_admit_at_once_and_a_full_gate_queues_in_arrival_order() -> None:
    async def scenario() -> list[str]:
        gate = Admission(slots=2, max_wait_s=10.0)
        first, second = await gate.enter(0), await gate.enter(0)
        order: list[str] = []

        async def request(name: str) -> None:
            began = await gate.enter(0)
            order.append(name)
            await asyncio.sleep(0)
            gate.leave(0, began)

        waiting = [asyncio.create_task(request(n)) for n in ("a", "b", "c")]
        await asyncio.sleep(0.01)
        assert gate.waiting() == 3 and order == []
        gate.leave(0, first)
        gate.leave(0, second)
        await asyncio.gather(*waiting)
        assert gate.busy == 0 and gate.waiting() == 0
        return order

    assert asyncio.run(scenario()) == ["a", "b", "c"]


def test_a_request_whose_expected_wait_is_over_the_bound_is_refused_at_once() -> None:
    async def scenario() -> None:
        gate = Admission(slots=2, max_wait_s=1.0)
        a, b = await gate.enter(0), await gate.enter(0)
        _held_for(gate, a, 0.6)  # requests hold a slot 0.6 s lately
        a = await gate.enter(0)
        # 1st in line: 1 × 0.6 / 2 = 0.3 s; 2nd 0.6 s; 3rd 0.9 s; 4th 1.2 s > 1 s.
        queued = [asyncio.create_task(gate.enter(0)) for _ in range(3)]
        await asyncio.sleep(0.01)
        assert gate.waiting() == 3
        with pytest.raises(Overloaded) as refused:
            await gate.enter(0)
        assert refused.value.retry_after_s == 2.0  # 1.2 s, rounded up to whole seconds
        assert "would wait 1.2 s for its turn, over the 1 s bound" in refused.value.message
        assert gate.shed == 1 and gate.waiting() == 3
        for task in queued:
            task.cancel()
        await asyncio.gather(*queued, return_exceptions=True)
        assert gate.waiting() == 0
        gate.leave(0, a)
        gate.leave(0, b)
        assert gate.busy == 0

    asyncio.run(scenario())


def test_a_line_whose_head_waited_past_the_bound_refuses_newcomers_and_sheds_the_late() -> None:
    async def scenario() -> None:
        gate = Admission(slots=1, max_wait_s=0.05)
        began = await gate.enter(0)
        late = asyncio.create_task(gate.enter(0))  # no estimate yet: it queues
        await asyncio.sleep(0.1)  # ... and waits longer than the bound
        with pytest.raises(Overloaded):
            await gate.enter(0)  # refused: the head of the line is past the bound
        gate.leave(0, began)
        with pytest.raises(Overloaded):
            await late  # its turn came too late: shed rather than served
        assert gate.shed == 2 and gate.busy == 0

    asyncio.run(scenario())


def test_the_line_and_the_bytes_in_flight_are_bounded() -> None:
    async def scenario() -> None:
        gate = Admission(slots=4, max_wait_s=60.0, max_waiting=2, max_body_bytes=1000)
        big = await gate.enter(800)
        # Fits the slots, not the bytes: waits, although slots are free.
        waiting = asyncio.create_task(gate.enter(300))
        other = asyncio.create_task(gate.enter(10))  # behind it, in order
        await asyncio.sleep(0.01)
        assert gate.busy == 1 and gate.waiting() == 2 and not waiting.done()
        with pytest.raises(Overloaded):
            await gate.enter(1)  # the line is full
        gate.leave(800, big)
        began = await waiting
        assert gate.body_bytes == 310 and (await other) > 0
        gate.leave(300, began)
        gate.leave(10, time.monotonic())
        assert gate.busy == 0 and gate.body_bytes == 0

    asyncio.run(scenario())


def test_one_request_alone_may_carry_a_body_up_to_the_limit() -> None:
    async def scenario() -> None:
        gate = Admission(slots=2, max_body_bytes=1000)
        began = await gate.enter(5000)  # counted as the limit
        assert gate.body_bytes == 1000
        gate.leave(5000, began)
        assert gate.body_bytes == 0

    asyncio.run(scenario())


def test_a_slot_released_from_another_thread_wakes_the_waiter_on_its_loop() -> None:
    gate = Admission(slots=1, max_wait_s=30.0)
    began = asyncio.run(gate.enter(0))

    async def wait_for_it() -> float:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, lambda: loop.run_in_executor(None, gate.leave, 0, began))
        return await gate.enter(0)

    admitted = asyncio.run(wait_for_it())
    assert gate.busy == 1
    gate.leave(0, admitted)
    assert gate.busy == 0
