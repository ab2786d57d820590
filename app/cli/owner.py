"""What a traffic change does to the A/B test or rollout that owns the traffic: named in the
confirmation before the change, and reported (`"interrupted"`) after it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.deployments.owners import TrafficOwner
from core.errors import NotFound

if TYPE_CHECKING:
    from core.engine import Engine

KIND_WORDS = {"abtest": "A/B test", "rollout": "rollout"}


def label(owner: TrafficOwner) -> str:
    """`A/B test ab-…` or `rollout ro-…`."""
    return f"{KIND_WORDS.get(owner.kind, owner.kind)} {owner.id}"


def question(text: str, owner: TrafficOwner | None) -> str:
    """The confirmation's question, with what the change does to the owner."""
    if owner is None:
        return text
    return f"{owner.warning()}.\n{text}"


def interrupted(engine: Engine, owner: TrafficOwner | None) -> dict[str, Any] | None:
    """The owner as it is after the change: `{"kind", "id", "summary", "status", "reason"}`
    (normally status `interrupted`, the reason naming the new revision), or None."""
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


def line(after: dict[str, Any] | None) -> str | None:
    """One line for people: `A/B test ab-… interrupted` (or whatever it is now)."""
    if after is None:
        return None
    return f"{KIND_WORDS.get(after['kind'], after['kind'])} {after['id']}: {after['status']}"
