"""Which A/B test commands each status allows, whether a test may take its model's traffic,
and the errors that name why not."""

from __future__ import annotations

from typing import Any

from core.domain import TestStatus
from core.errors import Conflict, IllegalTransition, NotFound
from storage.conn import Conn
from storage.repos import abtests as repo
from storage.repos import rollouts as rollouts_repo

ALLOWED = {
    "start": {TestStatus.DRAFT, TestStatus.PAUSED},
    "pause": {TestStatus.RUNNING},
    "stop": {TestStatus.DRAFT, TestStatus.RUNNING, TestStatus.PAUSED},
    "split": {TestStatus.DRAFT, TestStatus.RUNNING, TestStatus.PAUSED},
    "promote": {TestStatus.RUNNING, TestStatus.PAUSED},
}


def checked(conn: Conn, test_id: str, action: str) -> dict[str, Any]:
    """The test's row, read in the caller's transaction, if its status allows `action`;
    NotFound or IllegalTransition (an interrupted test says what ended it) otherwise."""
    row = repo.get(conn, test_id)
    if row is None:
        raise NotFound(f"no A/B test {test_id!r}")
    status = TestStatus(row["status"])
    if status not in ALLOWED[action]:
        allowed = " or ".join(sorted(s.value for s in ALLOWED[action]))
        verb = {"split": "change the split of", "start": "start"}.get(action, action)
        if status is TestStatus.INTERRUPTED:
            raise IllegalTransition(
                f"cannot {verb} A/B test {test_id}: it was {row['reason']}; it has ended"
            )
        raise IllegalTransition(
            f"cannot {verb} A/B test {test_id}: it is {status.value} (needs {allowed})"
        )
    return row


def check_free(conn: Conn, test_id: str, model: str, env: str) -> None:
    """Conflict unless test `test_id` may take the traffic map of `model` in `env`: no other
    A/B test is active there and no rollout is in progress."""
    other = repo.active_for_model(conn, model, env)
    if other is not None and other["id"] != test_id:
        raise Conflict(
            f"{model} {env} already has A/B test {other['id']} ({other['status']}); stop it first"
        )
    ro = rollouts_repo.latest(conn, model, env)
    if ro is not None and ro["status"] in ("running", "paused"):
        raise Conflict(f"{model} {env} has rollout {ro['id']} in progress ({ro['status']})")
