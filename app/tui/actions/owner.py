"""The A/B test or rollout that owns the traffic a dialog is about to change: named in the
dialog, and what became of it said on the flash line afterwards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.tui.fmt import traffic
from core.deployments.owners import TrafficOwner, after_change

if TYPE_CHECKING:
    from core.engine import Engine


def owner_lines(owner: TrafficOwner | None) -> list[str]:
    """Dialog lines: who owns the traffic and that this change ends it."""
    if owner is None:
        return []
    return [
        "",
        f"owner    {owner.label} ({owner.status})",
        f"         serves {traffic(owner.traffic)}",
        "         this change ends it as interrupted",
    ]


def ended_words(engine: Engine, owner: TrafficOwner | None) -> str:
    """`; A/B test ab-… interrupted` for the flash line after the change (read again, so it
    says what is true now), or nothing."""
    after = after_change(engine, owner)
    if after is None or owner is None:
        return ""
    return f"; {owner.label} {after['status']}"
