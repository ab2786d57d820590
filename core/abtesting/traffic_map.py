"""What an A/B test writes to its model's traffic map besides its split, inside the caller's
transaction: how it names itself as a revision's writer, how it finds a map someone else wrote
over it and ends as interrupted by that revision, how it returns to the map it replaced, and
how it hands 100% to a winner. `deployments` is the `DeploymentManager`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from core import audit
from core.abtesting.results import TestResults
from core.abtesting.rows import closed
from core.deployments.owners import TrafficOwner, interruption
from core.domain import DeploymentRevision, TestStatus
from core.errors import IllegalTransition, NotFound
from core.jsonable import canonical_json, to_jsonable
from core.traffic import describe
from storage.conn import Conn
from storage.repos import abtests as repo
from storage.repos import rollouts as rollouts_repo
from storage.store import Store


def writer_of(test_id: str) -> str:
    """How a test names itself as the writer of a revision (`TrafficOwner.writer`)."""
    return f"abtest:{test_id}"


def owner(conn: Conn, model: str, environment: str) -> TrafficOwner | None:
    """The running test of this model and environment (a paused one owns nothing)."""
    row = repo.active_for_model(conn, model, environment)
    if row is None or row["status"] != TestStatus.RUNNING.value:
        return None
    split = json.loads(row["split"])
    traffic = {v: p / 100.0 for v, p in split.items() if p > 0}
    return TrafficOwner(
        kind="abtest", id=row["id"], status=row["status"], model_id=model,
        environment=environment, traffic=traffic,
        summary=f"A/B test {row['id']} \"{row['name']}\" (running, {describe(traffic)})",
    )  # fmt: skip


def outside(deployments: Any, conn: Conn, row: dict[str, Any]) -> DeploymentRevision | None:
    """The first revision someone else wrote over this running test's map, if any (the
    owner hook ends the test in that revision's transaction, so this finds only changes
    made before that rule: the test is then ended here instead)."""
    owned = row["owned_revision"]
    current = deployments.current(row["model_id"], row["environment"])
    if owned is None or current is None or current.revision == owned:
        return None
    first = deployments.revision(row["model_id"], row["environment"], int(owned) + 1, conn=conn)
    return first or current


def interrupt(
    conn: Conn, row: dict[str, Any], rev: DeploymentRevision, writer: str | None, now: datetime
) -> str:
    """End a running test as interrupted by `rev`; returns the reason it records."""
    text = interruption(rev, writer)
    test_id, model, env = row["id"], row["model_id"], row["environment"]
    # Exposure under the test ended with that revision, not when this runs.
    end = min(now, rev.created_at)
    repo.update(
        conn, test_id, status=TestStatus.INTERRUPTED.value,
        periods=canonical_json(closed(json.loads(row["periods"]), end)), ended_at=end,
        updated_at=now, reason=text,
    )  # fmt: skip
    audit.append(
        conn, actor=rev.actor, action="abtest.interrupted", target=test_id, model_id=model,
        before={"status": row["status"], "revision": row["owned_revision"]},
        after={"status": TestStatus.INTERRUPTED.value, "revision": rev.revision,
               "kind": rev.kind, "traffic": rev.traffic, "writer": writer},
        reason=text, at=now,
    )  # fmt: skip
    rollouts_repo.add_system_event(
        conn, now, "abtest.interrupted", "warning",
        f"{model} {env}: A/B test {test_id} ({row['name']}) {text}", model, env,
        canonical_json({"test": test_id, "revision": rev.revision, "kind": rev.kind,
                        "actor": rev.actor}),
    )  # fmt: skip
    return text


def reconcile(store: Store, deployments: Any, now: Callable[[], datetime], test_id: str) -> bool:
    """End a running test whose map someone else changed unseen; True if it did."""
    with store.read() as conn:
        row = repo.get(conn, test_id)
        if row is None or row["status"] != TestStatus.RUNNING.value:
            return False
        if outside(deployments, conn, row) is None:
            return False
    with store.write() as conn:
        row = repo.get(conn, test_id)
        if row is None or row["status"] != TestStatus.RUNNING.value:
            return False
        rev = outside(deployments, conn, row)
        if rev is None:
            return False
        interrupt(conn, row, rev, None, now())
        return True


def restore(
    deployments: Any, conn: Conn, row: dict[str, Any], current: DeploymentRevision | None,
    actor: str, reason: str,
) -> DeploymentRevision | None:  # fmt: skip
    """Back to the map the test replaced; if a version of it can no longer serve (archived
    meanwhile, say), the control at 100%, so that pause and stop still work."""
    before = json.loads(row["pre_test_traffic"]) if row["pre_test_traffic"] else None
    control = {json.loads(row["versions"])[0]: 1.0}
    targets = [before, control] if before and before != control else [control]
    text = reason
    for i, target in enumerate(targets):
        if current is not None and current.traffic == target:
            return None
        try:
            rev: DeploymentRevision = deployments.set_traffic(
                row["model_id"], target, row["environment"], actor=actor, reason=text,
                kind="ab-test", expected_revision=current.revision if current else 0,
                conn=conn, owner=writer_of(row["id"]), preflight=False,
            )  # fmt: skip
            return rev
        except (IllegalTransition, NotFound) as e:
            if i == len(targets) - 1:
                raise
            text = (
                f"{reason} (the map from before the test, {describe(target)}, cannot serve:"
                f" {e.message}; the control takes 100%)"
            )
    return None


def promote(
    deployments: Any, conn: Conn, row: dict[str, Any], winner: str, results: TestResults,
    force: bool, actor: str, reason: str, now: datetime,
) -> DeploymentRevision:  # fmt: skip
    """100% to `winner` (kind "promote") and the test completed with `results` frozen."""
    test_id, model = row["id"], row["model_id"]
    current = deployments.current(model, row["environment"])
    text = f"A/B test {test_id} promoted {winner}: {results.recommendation}"
    if force:
        text += f" (forced: {reason})"
    rev: DeploymentRevision = deployments.set_traffic(
        model, {winner: 1.0}, row["environment"], actor=actor, reason=text, kind="promote",
        expected_revision=current.revision if current else 0, conn=conn, owner=writer_of(test_id),
    )  # fmt: skip
    repo.update(
        conn, test_id, status=TestStatus.COMPLETED.value, winner=winner,
        periods=canonical_json(closed(json.loads(row["periods"]), now)),
        results=canonical_json(to_jsonable(results)), owned_revision=rev.revision,
        ended_at=now, updated_at=now, reason=text,
    )  # fmt: skip
    audit.append(
        conn, actor=actor, action="abtest.promote", target=test_id, model_id=model,
        before={"traffic": current.traffic if current else None},
        after={"winner": winner, "revision": rev.revision, "forced": force,
               "recommendation": results.recommendation}, reason=reason or text, at=now,
    )  # fmt: skip
    return rev
