"""The command palette (ctrl+p): "noun: verb" commands from the routes, the known models and
the current view's keys, so every action is findable by name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from app.tui.routes import ROUTES

if TYPE_CHECKING:
    from app.tui.app import MlcConsole

Command = tuple[str, Callable[[], object], str]


class MlcCommands(Provider):
    def _commands(self) -> Iterator[Command]:
        from app.tui.screens.base import ResourceScreen

        app: MlcConsole = self.app  # type: ignore[assignment]
        screen = self.screen
        if isinstance(screen, ResourceScreen):
            for active in screen.active_bindings.values():
                binding = active.binding
                if active.node is screen and binding.description and active.enabled:
                    noun = screen.crumb() or "view"
                    yield (
                        f"{noun}: {binding.description.lower()}",
                        partial(screen.run_action, binding.action),
                        binding.tooltip or f"key {binding.key}",
                    )
        for route in ROUTES:
            if route.takes_model:
                for model in app.known_models:
                    yield (
                        f"{route.name}: open {model}",
                        partial(app.open_route, route, model),
                        route.help,
                    )
            else:
                yield f"{route.name}: open", partial(app.open_route, route), route.help
        yield "console: quit", app.exit, "leave the console (the store stays as it is)"

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
