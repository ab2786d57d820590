"""Who owns a model's traffic in an environment, and what happens to it when someone else
changes that traffic.

A running A/B test and an active (running or paused) rollout own the traffic map: they wrote
it and will write it again (a split change, a stop, the next step, an abort). Every revision
names its writer (`abtest:<id>`, `rollout:<id>`, or None for an operator); a revision by anyone
but the owner ends the owner as `interrupted` in the same transaction, so an owner never writes
its old map back over a newer one. `DeploymentManager` calls the hooks that `ABTestingEngine`
and `RolloutController` register with it (registration, like `subscribe`: no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import NotFound

if TYPE_CHECKING:
    from core.domain import ABTest, DeploymentRevision, Rollout
    from storage.conn import Conn

KIND_WORDS = {"abtest": "A/B test", "rollout": "rollout"}


@dataclass(frozen=True)
class TrafficOwner:
    """The A/B test or rollout that owns a model's traffic in one environment now."""

    kind: str
    """`abtest` or `rollout`."""
    id: str
    status: str
    model_id: str
    environment: str
    summary: str
    """In words, e.g. `A/B test ab-… "v2 vs v1" (running, v1 50% · v2 50%)`."""
    traffic: dict[str, float] = field(default_factory=dict)
    """The map it serves now (the revision it last wrote)."""

    @property
    def writer(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def noun(self) -> str:
        """`A/B test` or `rollout`."""
        return KIND_WORDS.get(self.kind, self.kind)

    @property
    def label(self) -> str:
        """`A/B test ab-…` or `rollout ro-…`."""
        return f"{self.noun} {self.id}"

    def warning(self) -> str:
        """What a change by someone else does to it, for confirmations."""
        return (
            f"{self.summary} owns {self.model_id} {self.environment} traffic:"
            " this change ends it as interrupted"
        )


class OwnerHook(Protocol):
    """What an owner of traffic (the A/B engine, the rollout controller) answers."""

    def traffic_owner(self, conn: Conn, model: str, environment: str) -> TrafficOwner | None:
        """Its test or rollout owning this traffic now, if any."""
        ...

    def interrupt(self, conn: Conn, rev: DeploymentRevision, writer: str | None) -> None:
        """Called inside the transaction of every new revision, after it is inserted: end
        the owner of `rev`'s traffic as interrupted unless `writer` is that owner."""
        ...


def interruption(rev: DeploymentRevision, writer: str | None) -> str:
    """The reason an interrupted test or rollout records: the revision, its kind and actor."""
    by = f"{rev.kind} by {rev.actor}" + (f", {writer.replace(':', ' ', 1)}" if writer else "")
    text = f"interrupted by {rev.model_id} {rev.environment} revision {rev.revision} ({by})"
    return f"{text}: {rev.reason}" if rev.reason else text


class OwnerReader(Protocol):
    """What `after_change` reads of an engine (any `core.engine.Engine`)."""

    def get_ab_test(self, test_id: str) -> ABTest: ...
    def get_rollout(self, model: str, *, environment: str = "production") -> Rollout: ...


def after_change(engine: OwnerReader, owner: TrafficOwner | None) -> dict[str, Any] | None:
    """The owner as it is after a change of its traffic, for the one who made the change:
    `{"kind", "id", "summary", "status", "reason"}` (normally status `interrupted`, the reason
    naming the new revision); None when there was no owner or it is gone."""
    if owner is None:
        return None
    if owner.kind == "abtest":
        test = engine.get_ab_test(owner.id)
        status, reason = str(test.status), test.reason
    else:
        try:
            ro = engine.get_rollout(owner.model_id, environment=owner.environment)
        except NotFound:
            return None
        if ro.id != owner.id:
            return None
        status, reason = str(ro.status), ro.reason
    return {"kind": owner.kind, "id": owner.id, "summary": owner.summary, "status": status,
            "reason": reason}  # fmt: skip
