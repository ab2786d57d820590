"""`Conn.committed`: work that must follow a write transaction's commit, never a rollback."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.store import Store


def test_committed_callbacks_run_after_the_commit_and_never_after_a_rollback(home: Path) -> None:
    ran: list[str] = []
    with Store.open(home) as store:
        with store.write() as conn:
            conn.committed.append(lambda: ran.append("first"))
            conn.committed.append(lambda: ran.append("second"))
            assert ran == []  # not before the commit
        assert ran == ["first", "second"]
        with pytest.raises(RuntimeError), store.write() as conn:
            conn.committed.append(lambda: ran.append("rolled back"))
            raise RuntimeError("the transaction fails")
        assert ran == ["first", "second"]
