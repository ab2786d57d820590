"""Closing a store while another thread is inside a write transaction.

A training job's relay thread may still be recording the job's last messages when the
command that waited for the job closes its engine. DuckDB refuses to close a cursor that is
busy with another call ("connection is busy with another call"), so the close must wait for
the transaction, which commits; a write that starts after the close is refused cleanly."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from storage.errors import StoreError
from storage.store import Store


def test_close_waits_for_a_write_in_flight_and_keeps_it(home: Path) -> None:
    store = Store.open(home)
    with store.write() as conn:
        conn.execute("CREATE TABLE notes (n INTEGER)")
    inside, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with store.write() as conn:
                conn.execute("INSERT INTO notes VALUES (1)")
                inside.set()
                release.wait(10)
                conn.execute("INSERT INTO notes VALUES (2)")
        except BaseException as e:  # reported below, in the test's thread
            failures.append(e)

    writer = threading.Thread(target=write)
    writer.start()
    assert inside.wait(10)
    closing = threading.Thread(target=store.close)
    closing.start()
    closing.join(0.3)
    assert closing.is_alive()  # waits for the transaction instead of failing under it
    release.set()
    writer.join(10)
    closing.join(10)
    assert not closing.is_alive() and failures == []
    with pytest.raises(StoreError, match="closed"), store.write():
        pass

    with Store.open(home) as reopened, reopened.read() as conn:
        assert conn.rows("SELECT n FROM notes ORDER BY n") == [{"n": 1}, {"n": 2}]
