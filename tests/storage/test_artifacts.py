"""Artifacts load safely from several threads at once."""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from core.trusted_types import TRUSTED_TYPES
from storage.artifacts import load_bytes


@pytest.fixture
def gc_runs_python() -> Iterator[None]:
    """A garbage collection that runs Python code and lets other threads in, as any gc
    callback or finaliser may: what made concurrent loads fail."""

    def yield_gil(phase: str, info: dict) -> None:
        time.sleep(0)

    gc.callbacks.append(yield_gil)
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(50)  # often, so that one falls inside a load
    sys.setswitchinterval(1e-6)  # and the waiting thread takes over at once
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
        gc.callbacks.remove(yield_gil)


@pytest.mark.usefixtures("gc_runs_python")
def test_loads_in_several_threads_at_once_all_succeed(artifact_bytes: bytes) -> None:
    # Before loads were serialised, some failed: "AST constructor recursion depth mismatch".
    errors: list[Exception] = []

    def load_at_depth(depth: int) -> None:
        if depth:
            return load_at_depth(depth - 1)
        for _ in range(15):
            try:
                load_bytes(artifact_bytes, TRUSTED_TYPES)
            except Exception as e:
                errors.append(e)

    threads = [threading.Thread(target=load_at_depth, args=(30 * (i % 2),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
