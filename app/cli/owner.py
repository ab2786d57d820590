"""What a traffic change does to the A/B test or rollout that owns the traffic: named in the
confirmation before the change, and reported (`"interrupted"`) after it."""

from __future__ import annotations

from typing import Any

from core.deployments.owners import KIND_WORDS, TrafficOwner, after_change

__all__ = ["after_change", "line", "question"]


def question(text: str, owner: TrafficOwner | None) -> str:
    """The confirmation's question, with what the change does to the owner."""
    if owner is None:
        return text
    return f"{owner.warning()}.\n{text}"


def line(after: dict[str, Any] | None) -> str | None:
    """One line for people: `A/B test ab-…: interrupted` (or whatever it is now)."""
    if after is None:
        return None
    return f"{KIND_WORDS.get(after['kind'], after['kind'])} {after['id']}: {after['status']}"
