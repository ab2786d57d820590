"""What a rollout writes to its model's traffic map, inside the caller's transaction: how it
names itself as a revision's writer, how it tells its own map from someone else's, how it ends
as interrupted by another revision, and the step and abort maps it sets. `deployments` is the
`DeploymentManager`.
"""

from __future__ import annotations

import json
from typing import Any

from core import audit
from core.clock import utcnow
from core.deployments.owners import TrafficOwner, interruption
from core.domain import DeploymentRevision, RolloutStatus
from core.jsonable import canonical_json
from core.rollout.rows import step_traffic
from core.traffic import describe
from storage.conn import Conn
from storage.repos import rollouts as repo


def writer_of(rollout_id: str) -> str:
    """How a rollout names itself as the writer of a revision (`TrafficOwner.writer`)."""
    return f"rollout:{rollout_id}"


def owner(conn: Conn, model: str, environment: str) -> TrafficOwner | None:
    """The running or paused rollout of this model and environment, if any."""
    row = repo.latest(conn, model, environment)
    if row is None or not RolloutStatus(row["status"]).active:
        return None
    traffic = step_traffic(row, int(row["step_index"]))
    weight = json.loads(row["steps"])[int(row["step_index"])]
    return TrafficOwner(
        kind="rollout", id=row["id"], status=row["status"], model_id=model,
        environment=environment, traffic=traffic,
        summary=f"rollout {row['id']} of v{row['canary_version']} ({row['status']},"
                f" canary at {weight:g}%: {describe(traffic)})",
    )  # fmt: skip


def own(deployments: Any, row: dict[str, Any]) -> DeploymentRevision | None:
    """The current revision when it is this rollout's own (it serves the rollout's step
    map), else None: someone else changed the traffic. The owner hook ends the rollout in
    that change's transaction, so only a store written before that rule gets None here."""
    current: DeploymentRevision | None = deployments.current(row["model_id"], row["environment"])
    if current is None:
        return None
    want = step_traffic(row, int(row["step_index"]))
    have = current.traffic
    if set(have) != set(want) or any(abs(have[v] - want[v]) > 1e-9 for v in want):
        return None
    return current


def interrupt_unseen(deployments: Any, conn: Conn, row: dict[str, Any]) -> None:
    """End the rollout as interrupted by the current revision (someone else's, per `own`)."""
    current = deployments.current(row["model_id"], row["environment"])
    assert current is not None  # a rollout starts against a deployment; none is deleted
    interrupt(conn, row, current, None)


def interrupt(conn: Conn, row: dict[str, Any], rev: DeploymentRevision, writer: str | None) -> None:
    """End the rollout as interrupted by `rev`, with an audit record and a system event."""
    now = utcnow()
    text = interruption(rev, writer)
    model, env = row["model_id"], row["environment"]
    repo.update(conn, row["id"], status=RolloutStatus.INTERRUPTED.value, reason=text,
                updated_at=now)  # fmt: skip
    audit.append(
        conn, actor=rev.actor, action="rollout.interrupted", target=row["id"], model_id=model,
        before={"status": row["status"], "step": int(row["step_index"]) + 1},
        after={"status": RolloutStatus.INTERRUPTED.value, "revision": rev.revision,
               "kind": rev.kind, "traffic": rev.traffic, "writer": writer},
        reason=text,
    )  # fmt: skip
    repo.add_system_event(
        conn, now, "rollout.interrupted", "warning",
        f"{model} {env}: rollout of v{row['canary_version']} {text}", model, env,
        canonical_json({"rollout": row["id"], "revision": rev.revision, "kind": rev.kind,
                        "actor": rev.actor}),
    )  # fmt: skip


def set_weight(
    deployments: Any, conn: Conn, row: dict[str, Any], index: int, actor: str, reason: str,
    expected: int,
) -> Any:  # fmt: skip
    """Step `index`'s map, compare-and-set on revision `expected`."""
    return deployments.set_traffic(
        row["model_id"], step_traffic(row, index), row["environment"], actor=actor,
        reason=reason, kind="rollout", expected_revision=expected, conn=conn,
        owner=writer_of(row["id"]),
    )  # fmt: skip


def restore(
    deployments: Any, conn: Conn, row: dict[str, Any], actor: str, reason: str, expected: int
) -> Any:
    """Back to the stable map (kind "abort"), the aborted revisions marked unhealthy."""
    return deployments.set_traffic(
        row["model_id"], json.loads(row["stable_traffic"]), row["environment"], actor=actor,
        reason=reason, kind="abort", expected_revision=expected, conn=conn,
        mark_unhealthy=reason, owner=writer_of(row["id"]), preflight=False,
    )  # fmt: skip
