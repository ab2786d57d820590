"""The views the `:` command bar and the command palette jump to: one registry feeds both.

Screens are imported when first opened, so start-up pays only for the fleet view.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class Route:
    name: str
    """What follows `:` (`models`, `live`)."""
    target: str
    """`module:Class` under app.tui.screens."""
    help: str
    aliases: tuple[str, ...] = ()
    takes_model: bool = False
    """The view is about one model: `:live credit-default`, or the model in context."""
    takes_id: bool = False
    """The view may take an id (`:ab TEST_ID`)."""

    def load(self) -> type[Screen[None]]:
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(f"app.tui.screens.{module}"), cls)  # type: ignore[no-any-return]


ROUTES: tuple[Route, ...] = (
    Route("fleet", "fleet:FleetScreen", "every model, its traffic and health", ("models", "mo")),
    Route(
        "model", "model:ModelScreen", "versions, lineage and deployments", ("m",), takes_model=True
    ),
    Route(
        "live",
        "live:LiveScreen",
        "live charts: requests, latency, errors, accuracy",
        takes_model=True,
    ),
    Route(
        "drift",
        "drift:DriftScreen",
        "per-feature drift against the training data",
        takes_model=True,
    ),
    Route(
        "rollout",
        "rollout:RolloutScreen",
        "the progressive rollout: steps and guardrails",
        takes_model=True,
    ),
    Route(
        "ab",
        "abtests:ABTestsScreen",
        "A/B tests: results, split, promote",
        ("abtests",),
        takes_id=True,
    ),
    Route("alerts", "alerts:AlertsScreen", "firing, pending and resolved alerts; rules", ("al",)),
    Route("audit", "audit:AuditScreen", "the audit timeline; verify the chain", ("au",)),
    Route("jobs", "jobs:JobsScreen", "training jobs; start one from a config", ("j",)),
)


def find_route(word: str) -> Route | None:
    word = word.lower()
    for route in ROUTES:
        if word == route.name or word in route.aliases:
            return route
    return None


def route_words() -> list[str]:
    """What the command bar suggests."""
    words = [r.name for r in ROUTES] + ["help", "quit"]
    return sorted(words)
